// The catalog as shape resolution reads it (core/shape_resolve.hpp): tables, their live columns,
// primary and unique keys, index prefixes and top-level foreign keys, read from the system caches
// and pg_constraint into the core's plain data.
#pragma once

#include "core/shape_resolve.hpp"

#include <map>

namespace store::pg {

// core::Catalog over this backend's catalog. Each table is read once, under AccessShareLock (kept
// to the end of the transaction, so what resolution saw stays true while it is used). Every
// PostgreSQL call runs under PgCall: an error there reaches the caller as a PgError exception.
// It reads the catalog only, which every role may read: it checks no privilege.
class PgCatalog : public core::Catalog {
public:
	const core::CatalogTable &Table(core::CatalogOid oid) override;
	const core::CatalogTable *FindTable(const std::string &schema, const std::string &name) override;

private:
	std::map<core::CatalogOid, core::CatalogTable> tables_;
};

} // namespace store::pg
