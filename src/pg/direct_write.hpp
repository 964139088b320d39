// Direct writes to store.entries and store.history through the executor's per-tuple routines
// (heap, indexes, constraints), as the owner of the store tables: the state they share and the
// routines the writer (writer.cpp) and the reload (reload.cpp) both use. Internal to src/pg.
#pragma once

#include "pg/postgres_headers.hpp"
#include "pg/roles.hpp"

extern "C" {
#include "nodes/execnodes.h"
}

namespace store::pg {

// store.entries (unless only history is written) and store.history opened for direct writes,
// with the executor state their constraint checks and index insertions need, and the slots the
// writes fill (created on first use, reused by every write through this state).
struct DirectWrite {
	EState *estate;
	ResultRelInfo *entries;
	ResultRelInfo *history;
	Relation entries_index; // the (key, id) index, among entries' open indexes
	EPQState epq;
	SavedUser saved;
	bool pushed_snapshot;
	TupleTableSlot *entry_slot;
	TupleTableSlot *old_slot;
	TupleTableSlot *stale_slot;
	TupleTableSlot *history_slot;
};

// Opens store.history (and store.entries with with_entries) for writes, in the current memory
// context: executor state, result relations and their indexes (locks them as an INSERT would).
void OpenDirectWrite(DirectWrite *write, bool with_entries);

// Closes what OpenDirectWrite opened (and the store tables the trigger manager opened); frees its memory.
void CloseDirectWrite(DirectWrite *write);

// Starts one write through an open state: as the store owner, in the current command and the
// active snapshot, in the write's own after-trigger query level.
void BeginWriting(DirectWrite *write);

// Fires what the write queued, lets go of the tuples it held and returns to the calling user.
void EndWriting(DirectWrite *write);

// An empty slot for rows of info's table, in the executor state's memory.
TupleTableSlot *NewSlot(DirectWrite *write, ResultRelInfo *info);

// *slot (created on first use) emptied, with every column NULL, to be filled by position.
TupleTableSlot *NullSlot(DirectWrite *write, ResultRelInfo *info, TupleTableSlot **slot);

// Sets column index of slot to value (not NULL).
void SetColumn(TupleTableSlot *slot, int index, Datum value);

// Waits for the transaction writing the tuple a dirty-snapshot scan just returned; true when it waited.
bool WaitForWriter(const SnapshotData *dirty);

// True when the entry in stored holds exactly doc.
bool StoredDocIs(TupleTableSlot *stored, Datum doc);

// Inserts the entry in slot entry (virtual: key, id, doc), replacing a stale duplicate.
void InsertEntrySlot(DirectWrite *write, TupleTableSlot *entry, Datum key, Datum id);

} // namespace store::pg
