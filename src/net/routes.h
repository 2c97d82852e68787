// The routes of the HTTPS server, registered into a WebApp by area. Each area's file documents
// its routes; docs/api.md lists them all and /api/v1/openapi.json describes them.
#pragma once

#include "net/web_app.h"

namespace isms::net {

// /healthz, /metrics, /api/v1/openapi.json, /api/v1/me (api_system.cc).
void AddSystemRoutes(WebApp& app);
// The web interface's pages (web_*.cc, docs/web.md; declared with their areas in web_pages.h).
void AddWebRoutes(WebApp& app);
// Every route: the system routes, the JSON API and the web pages.
void AddAllRoutes(WebApp& app);

}  // namespace isms::net
