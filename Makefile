# store: PGXS build of the PostgreSQL extension (C++17), plus its regression and isolation tests.
EXTENSION = store
EXTVERSION = 0.3.0
MODULE_big = store

CORE_SRCS = $(wildcard src/core/*.cpp)
PG_SRCS = $(wildcard src/pg/*.cpp)
OBJS = $(CORE_SRCS:.cpp=.o) $(PG_SRCS:.cpp=.o)

# SQL scripts. The install script of the version in development is built from its source, one file
# per concern (sql/src/NN-concern.sql, in file-name order); each update to it from a template
# (sql/update/A--B.sql) whose "\ir ../src/file.sql" lines include source files. Released scripts
# (sql/store--*.sql in git) are kept as they shipped and never change.
STORE_INSTALL_SCRIPT = sql/$(EXTENSION)--$(EXTVERSION).sql
STORE_INSTALL_SOURCES = $(sort $(wildcard sql/src/*.sql))
STORE_UPDATE_SCRIPTS = $(patsubst sql/update/%.sql,sql/$(EXTENSION)--%.sql,$(wildcard sql/update/*.sql))
DATA_built = $(STORE_INSTALL_SCRIPT) $(STORE_UPDATE_SCRIPTS)
DATA = $(filter-out $(DATA_built),$(wildcard sql/$(EXTENSION)--*.sql))

# pg_regress: every test/sql/*.sql, run against an installed extension.
REGRESS = $(sort $(basename $(notdir $(wildcard test/sql/*.sql))))
REGRESS_OPTS = --inputdir=test --outputdir=test
ISOLATION = $(sort $(basename $(notdir $(wildcard test/specs/*.spec))))
ISOLATION_OPTS = --inputdir=test --outputdir=test/isolation_output

PG_CONFIG ?= pg_config
override PG_CPPFLAGS += -Isrc
override PG_CXXFLAGS += -std=c++17 -Wall -Wextra -Wno-unused-parameter -Wno-register -Wno-missing-field-initializers
SHLIB_LINK += -lstdc++

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Objects depend on the headers they include (PGXS tracks no header dependencies): g++ writes a
# .d file next to each object, read on the next make.
override CXXFLAGS += -MMD -MP
-include $(OBJS:.o=.d)

# Debian's PGXS also emits LLVM bitcode with clang (C++14 by default): give it our flags too.
COMPILE.cxx.bc += $(PG_CXXFLAGS) -Wno-unknown-warning-option -Wno-string-concatenation
COMPILE.cc.bc += $(PG_CPPFLAGS)

EXTRA_CLEAN = test/results test/regression.diffs test/regression.out test/isolation_output build $(OBJS:.o=.d)

$(STORE_INSTALL_SCRIPT): $(STORE_INSTALL_SOURCES)
	cat $^ > $@

# An update script: its template with every "\ir path" line replaced by that file (path relative
# to the template, as psql's \ir reads it).
sql/$(EXTENSION)--%.sql: sql/update/%.sql $(STORE_INSTALL_SOURCES)
	awk '/^\\ir / { f = "sql/update/" $$2; while ((getline line < f) > 0) print line; close(f); next } { print }' $< > $@

.PHONY: unit format
# GoogleTest suite of the PostgreSQL-free core, through CMake.
unit:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build build -j2
	cd build && ctest --output-on-failure -L unit

format:
	clang-format -i src/*/*.cpp src/*/*.hpp test/unit/*.cpp test/integration/*.cpp test/integration/*.hpp test/stress/*.cpp

.PHONY: integration
# libpq integration tests (NOTIFY, ...) against the server in the PG* environment.
integration:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build build -j2
	cd build && ctest --output-on-failure -L integration

.PHONY: fuzz
# A short libFuzzer run (with ASan and UBSan) over the core's parsers of client input (versions,
# keys, document shapes, change sets).
FUZZ_SECONDS ?= 30
fuzz:
	mkdir -p build/fuzz-corpus
	printf '0' > build/fuzz-corpus/zero
	printf '0a1b2c3d:748:760:748,751,759' > build/fuzz-corpus/cursor
	printf 'order_lines' > build/fuzz-corpus/key
	printf 'film_id,title,language:language!film_language_id_fkey(name),actors:actor(actor_id,first_name,last_name),categories:category(name)' > build/fuzz-corpus/shape
	printf '{"changes":[{"op":"add","entityName":"t","entities":[{"id":{"$$tmp":"a"},"v":1}]},{"op":"update","entityName":"t","entities":[{"id":{"$$ref":"a"},"changes":{"v":2},"$$expect":{"v":1}}]}],"clientId":"c","mutationId":1}' > build/fuzz-corpus/changeset
	clang++-14 -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Isrc \
		test/fuzz/parsers_fuzz.cpp src/core/cursor.cpp src/core/key.cpp src/core/shape.cpp \
		src/core/changeset.cpp src/core/payload.cpp -o build/parsers_fuzz
	build/parsers_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=512 build/fuzz-corpus

.PHONY: gateway gateway-unit install-gateway
# store-http, the HTTP gateway (gateway/): a separate program built with CMake by `make`, installed
# next to PostgreSQL's programs by `make install`; gateway-unit runs its GoogleTest suite.
all: gateway
gateway:
	cmake -S gateway -B gateway/build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	$(MAKE) -C gateway/build
install: install-gateway
install-gateway: gateway
	$(MKDIR_P) '$(DESTDIR)$(bindir)'
	$(INSTALL_PROGRAM) gateway/build/store-http '$(DESTDIR)$(bindir)/store-http'
gateway-unit: gateway
	cd gateway/build && ctest --output-on-failure -L gateway
EXTRA_CLEAN += gateway/build
