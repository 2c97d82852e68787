// The schema of an isms store, as versioned migrations (store::Migrate applies them).
// Tables and columns are documented in docs/storage.md.
#pragma once

#include <vector>

#include "store/store.h"

namespace isms::app {

const std::vector<store::Migration>& Migrations();

}  // namespace isms::app
