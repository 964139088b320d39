// Included last by every source file of the core: the core is PostgreSQL-free (it is unit-tested
// without a server and builds without PostgreSQL's headers), and this makes the compiler say so
// if a PostgreSQL header ever slips into one of its files. No include guard: each inclusion checks.
#ifdef POSTGRES_H
#error "src/core/ must not include PostgreSQL headers: put PostgreSQL glue in src/pg/"
#endif
