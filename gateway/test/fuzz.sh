#!/usr/bin/env bash
# A short libFuzzer run (ASan + UBSan) over store-http's parsers of client input (gateway_fuzz.cpp).
#   FUZZ_SECONDS: how long (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build/fuzz-corpus
printf '\000/store/items/%%5B1%%2C2%%5D/?after=e7%%3A1%%3A2%%3A' > build/fuzz-corpus/route
printf '\001W/"x", W/"e73eab38:729:731:730,732/00ff00ff00ff00ff"' > build/fuzz-corpus/etag
printf '\002deflate, gzip;q=0.5, *;q=0' > build/fuzz-corpus/gzip
printf '\003eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoiYWxpY2UifQ.sig' > build/fuzz-corpus/jwt
printf '\005{"version": "v:1:2:", "keys": ["items"]}' > build/fuzz-corpus/notify
printf '\006{"id":{"$tmp":"a"},"name":"tea"}' > build/fuzz-corpus/write
clang++-14 -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Isrc \
    test/fuzz/gateway_fuzz.cpp src/core/auth.cpp src/core/etag.cpp src/core/gzip.cpp src/core/live.cpp \
    src/core/route.cpp src/core/writes.cpp -lcrypto -lz -o build/gateway_fuzz
build/gateway_fuzz -max_total_time="${FUZZ_SECONDS:-30}" -max_len=2048 -artifact_prefix=build/ build/fuzz-corpus 2>&1 | tail -n 3
