// Role switching: see roles.hpp.
#include "pg/roles.hpp"
#include "pg/store_objects.hpp"

namespace store::pg {

Oid
RelationOwner(Oid relid)
{
	HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		return InvalidOid;
	Oid owner = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return owner;
}

SavedUser
BecomeRole(Oid role, int extra_flags)
{
	SavedUser saved;
	GetUserIdAndSecContext(&saved.user, &saved.context);
	SetUserIdAndSecContext(role,
	                       saved.context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION | extra_flags);
	return saved;
}

SavedUser
BecomeStoreOwner()
{
	return BecomeRole(StoreOwner());
}

void
RestoreUser(SavedUser saved)
{
	SetUserIdAndSecContext(saved.user, saved.context);
}

} // namespace store::pg
