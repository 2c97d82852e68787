// The JSON API under /api/v1 (docs/api.md), registered by area into a WebApp. Each area's file
// lists its routes; /api/v1/openapi.json describes them all (api_openapi.cc).
#pragma once

#include "net/web_app.h"

namespace isms::net {

// Contracts, events, status, root causes (api_contracts.cc).
void AddContractRoutes(WebApp& app);
// Findings, their events, assets, scan and advisory uploads (api_vulns.cc).
void AddVulnRoutes(WebApp& app);
// Monthly reports: preview, issue, the issued ones (api_reports.cc).
void AddReportRoutes(WebApp& app);
// Audit records: search, export, ingest (NDJSON), checkpoints, proofs, verification
// (api_audit.cc).
void AddAuditRoutes(WebApp& app);
// Users, grants, API tokens, API sessions, the store's access log (api_accounts.cc).
void AddAccountRoutes(WebApp& app);
// GET /api/v1/openapi.json (api_openapi.cc).
void AddOpenApiRoute(WebApp& app);

// Every route above.
void AddApiRoutes(WebApp& app);

}  // namespace isms::net
