// An SPI session: ConnectSpi opens it, and each caller closes it with SPI_finish where it is done
// with the results (an error closes it too, at transaction abort).
#pragma once

#include "pg/postgres_headers.hpp"

namespace store::pg {

// Opens an SPI connection for the calling function; errors when SPI refuses.
inline void
ConnectSpi()
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "store: SPI_connect failed");
}

} // namespace store::pg
