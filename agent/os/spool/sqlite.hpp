#pragma once
// The SQLite wrapper is shared with the collector: os/sqlite/sqlite.hpp. This header stays so
// the spool's sources keep building while they still include it.
#include "os/sqlite/sqlite.hpp"
