// libFuzzer target over store-http's handling of client input: request targets (routing, percent-decoding,
// query strings), If-None-Match lists, Accept-Encoding, JWTs (HS256 and RS256 configurations), NOTIFY
// payloads and write bodies. The first byte picks the handler; the rest is the input.
#include "core/auth.hpp"
#include "core/etag.hpp"
#include "core/gzip.hpp"
#include "core/live.hpp"
#include "core/route.hpp"
#include "core/writes.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

// Runs one input through the handler its first byte selects.
extern "C" int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	std::string in(reinterpret_cast<const char *>(data) + 1, size - 1);
	static const char *methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"};
	switch (data[0] % 8) {
	case 0:
		gw::route(methods[(size / 7) % 6], in);
		break;
	case 1:
		gw::if_none_match(in, gw::make_etag("e73eab38:729:731:730,732", "00ff00ff00ff00ff"));
		break;
	case 2:
		gw::accepts_gzip(in);
		break;
	case 3: {
		gw::AuthConfig hs;
		hs.secret = "0123456789abcdef0123456789abcdef";
		hs.anon_role = "anon";
		hs.audience = "store";
		gw::authenticate(hs, "Bearer " + in);
		break;
	}
	case 4: {
		gw::AuthConfig c;
		c.anon_role = "anon";
		c.role_claim = "a.b";
		gw::authenticate(c, in);
		gw::claim_string(in, "a.b");
		break;
	}
	case 5: {
		gw::LiveEvent e = gw::parse_notification(in);
		e.version = in;
		gw::sse_event(e);
		break;
	}
	case 6: {
		gw::WritePlan p = gw::plan_write(gw::WriteKind(size % 5), "items", in.substr(0, 16), in);
		gw::read_apply_answer(gw::WriteKind(size % 5), p, in, "items");
		break;
	}
	case 7:
		try {
			gw::id_json_of_text(in);
		} catch (const std::exception &) { // documented: text that is not UTF-8
		}
		gw::id_text_of_json(in);
		gw::document_location("items", in);
		break;
	}
	return 0;
}
