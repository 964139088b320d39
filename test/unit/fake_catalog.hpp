// The catalog the unit tests resolve shapes against: tables held in memory, by oid, found by
// (schema, name). Shared by shape_resolve_test.cpp and reverse_lookup_test.cpp.
#pragma once

#include "core/shape_resolve.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace store::unit {

// One column of a table added to the fake catalog: its name, and its type when the test needs it.
struct FakeColumn {
	std::string name;
	core::CatalogOid type = 0; // 0: unknown

	FakeColumn(const char *column_name) : name(column_name) {}
	FakeColumn(std::string column_name) : name(std::move(column_name)) {}
	FakeColumn(const char *column_name, core::CatalogOid column_type) : name(column_name), type(column_type) {}
};

// A catalog held in memory: tables by oid, found by (schema, name).
class FakeCatalog : public core::Catalog {
public:
	// Adds a table with columns (attnums 1..n; names, or {name, type} pairs) and a primary key
	// (attnums), which is also a unique key and an index.
	core::CatalogTable &
	Add(core::CatalogOid oid, const std::string &name, const std::vector<FakeColumn> &columns,
	    std::vector<int> primary_key, char kind = 'r', const std::string &schema = "public")
	{
		core::CatalogTable &table = tables_[oid];
		table.oid = oid;
		table.schema = schema;
		table.name = name;
		table.sql_schema = schema;
		table.sql_relname = name;
		table.kind = kind;
		for (std::size_t i = 0; i < columns.size(); i++)
			table.columns.push_back({(int)i + 1, columns[i].name, columns[i].name, columns[i].type});
		table.primary_key = primary_key;
		if (!primary_key.empty()) {
			table.unique.push_back(primary_key);
			table.indexes.push_back(primary_key);
		}
		return table;
	}

	// Adds a foreign key holder(referencing) -> target(referenced) named name.
	void
	AddForeignKey(core::CatalogOid oid, const std::string &name, core::CatalogOid holder, std::vector<int> referencing,
	              core::CatalogOid target, std::vector<int> referenced)
	{
		core::CatalogForeignKey fk;
		fk.oid = oid;
		fk.name = name;
		fk.referencing_table = holder;
		fk.referenced_table = target;
		fk.referencing = referencing;
		fk.referenced = referenced;
		fk.operators.assign(referencing.size(), "OPERATOR(pg_catalog.=)");
		tables_.at(holder).foreign_keys.push_back(fk);
		std::vector<core::CatalogOid> &by = tables_.at(target).referenced_by;
		if (std::find(by.begin(), by.end(), holder) == by.end())
			by.push_back(holder);
	}

	const core::CatalogTable &
	Table(core::CatalogOid oid) override
	{
		return tables_.at(oid);
	}

	const core::CatalogTable *
	FindTable(const std::string &schema, const std::string &name) override
	{
		for (const auto &entry : tables_)
			if (entry.second.schema == schema && entry.second.name == name)
				return &entry.second;
		return nullptr;
	}

	// The table oid, to change in a test.
	core::CatalogTable &
	Mutable(core::CatalogOid oid)
	{
		return tables_.at(oid);
	}

private:
	std::map<core::CatalogOid, core::CatalogTable> tables_;
};

} // namespace store::unit
