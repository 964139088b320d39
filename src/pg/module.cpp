// The store extension's module: magic block and one-time initialisation.
#include "pg/doc_shape.hpp"
#include "pg/nested.hpp"
#include "pg/notifier.hpp"
#include "pg/store_objects.hpp"
#include "pg/writer.hpp"
#include "pg/xact.hpp"

extern "C" {
PG_MODULE_MAGIC;

void _PG_init(void);

// Registers the cache and transaction callbacks once per backend that loads the module.
void
_PG_init(void)
{
	store::pg::InitDocShapes();
	store::pg::InitStoreObjects();
	store::pg::InitXactCallbacks();
	store::pg::InitNotifier();
	store::pg::InitNested();
	store::pg::InitDirectWrites();
}
}
