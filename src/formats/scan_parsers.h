// The per-format scan parsers behind ParseScan (formats/scan.h). Internal to formats/.
//
// Each parses `data` (the whole report) as its format and calls `sink` in file order, with the
// contract of ParseScan: OnScan once before any asset or finding; `source` names the file in
// errors; a sink error stops the parse and is returned as is. Field mappings: docs/formats.md.
#pragma once

#include <string_view>

#include "core/status.h"
#include "formats/scan.h"

namespace isms {

Status ParseNessus(std::string_view data, std::string_view source, ScanSink& sink);
Status ParseOpenVas(std::string_view data, std::string_view source, ScanSink& sink);
Status ParseTrivy(std::string_view data, std::string_view source, ScanSink& sink);
Status ParseGrype(std::string_view data, std::string_view source, ScanSink& sink);
Status ParseOsv(std::string_view data, std::string_view source, ScanSink& sink);
Status ParseCycloneDx(std::string_view data, std::string_view source, ScanSink& sink);
Status ParseSarif(std::string_view data, std::string_view source, ScanSink& sink);

}  // namespace isms
