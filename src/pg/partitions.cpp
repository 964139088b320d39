// Which DDL commands change the set of a partitioned table's partitions: the store's event
// trigger on ALTER TABLE and CREATE TABLE (sql/src/90-event-triggers.sql) acts on these only, so that
// other commands (a restore adding a primary key, enabling a trigger) leave the documents alone.
#include "pg/guard.hpp"

extern "C" {
#include "tcop/deparse_utility.h"
}

namespace {

// True when an ALTER TABLE subcommand attaches or detaches a partition.
bool
IsPartitionSubcommand(const Node *parsetree)
{
	if (parsetree == nullptr || !IsA(parsetree, AlterTableCmd))
		return false;
	AlterTableType type = reinterpret_cast<const AlterTableCmd *>(parsetree)->subtype;
	return type == AT_AttachPartition || type == AT_DetachPartition || type == AT_DetachPartitionFinalize;
}

// store._changes_partitions(command pg_ddl_command): the command (one row of
// pg_event_trigger_ddl_commands()) attaches or detaches a partition, or creates one (CREATE TABLE
// ... PARTITION OF).
Datum
ChangesPartitions(FunctionCallInfo fcinfo)
{
	auto *command = reinterpret_cast<CollectedCommand *>(PG_GETARG_POINTER(0));
	if (command->type == SCT_AlterTable) {
		ListCell *cell;
		foreach (cell, command->d.alterTable.subcmds) {
			auto *subcommand = static_cast<CollectedATSubcmd *>(lfirst(cell));
			if (IsPartitionSubcommand(subcommand->parsetree))
				PG_RETURN_BOOL(true);
		}
		PG_RETURN_BOOL(false);
	}
	const Node *parsetree = command->parsetree;
	PG_RETURN_BOOL(command->type == SCT_Simple && parsetree != nullptr && IsA(parsetree, CreateStmt) &&
	               reinterpret_cast<const CreateStmt *>(parsetree)->partbound != nullptr);
}

} // namespace

STORE_ENTRY(store_changes_partitions, ChangesPartitions)
