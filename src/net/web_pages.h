// The web interface's routes, one function per area (docs/web.md lists every page). Each page
// route names the action it performs, so the request pipeline (web_app.h) checks it on the
// page's contract before the handler runs; handlers whose action depends on the input (an
// event's type) call RequestContext::Check themselves.
#pragma once

#include "net/web_app.h"

namespace isms::net {

// /login, /logout, /, /static/{file} (web_login.cc).
void AddWebLoginRoutes(WebApp& app);
// /c/{contract}: the dashboard; /c/{contract}/events: the timeline and the event forms
// (web_dashboard.cc, web_events.cc).
void AddWebDashboardRoutes(WebApp& app);
void AddWebEventRoutes(WebApp& app);
// /c/{contract}/vulns... (web_vulns.cc).
void AddWebVulnRoutes(WebApp& app);
// /c/{contract}/reports... (web_reports.cc).
void AddWebReportRoutes(WebApp& app);
// /c/{contract}/audit... (web_audit.cc).
void AddWebAuditRoutes(WebApp& app);
// /admin/users... (web_admin.cc).
void AddWebAdminRoutes(WebApp& app);

// /account...: the user's own password, second factor and API tokens (web_account.cc).
void AddWebAccountRoutes(WebApp& app);

// Every page of the web interface.
void AddWebRoutes(WebApp& app);

}  // namespace isms::net
