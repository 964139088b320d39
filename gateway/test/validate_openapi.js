// Validates an OpenAPI document (file argument) with @apidevtools/swagger-parser (npm); exit 1 when invalid.
// NODE_PATH must reach a node_modules holding the package (gateway/test/http.sh sets it).
const SwaggerParser = require("@apidevtools/swagger-parser");
SwaggerParser.validate(process.argv[2])
    .then((api) => { console.log(`valid: ${api.info.title} ${api.openapi}`); })
    .catch((err) => { console.error(err.message); process.exit(1); });
