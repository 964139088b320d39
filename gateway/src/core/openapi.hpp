// The OpenAPI 3.1 description of store-http's routes (no I/O).
#pragma once

#include <string>

namespace gw {

// The document served at GET /openapi.json (the routes; documents as generic JSON objects).
std::string openapi_json();

} // namespace gw
