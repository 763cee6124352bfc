// The SQLite wrapper shared by the spool and the collector (agent/os/sqlite): statements,
// transactions, and errors that say what failed, with SQLite's extended code.
#include "os/sqlite/sqlite.hpp"

#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "support/process.hpp"

using namespace seatlock;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  std::string path = test::make_temp_dir("sqlite");
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return path + "/" + name; }
};

}  // namespace

TEST_CASE("rows go in and come back out through bound statements", "[sqlite]") {
  TempDir dir;
  sql::Db db(dir.file("t.db"));
  db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, note TEXT)");
  sql::Stmt ins(db, "INSERT INTO t(id, name, note) VALUES(?1, ?2, ?3)");
  std::string kept = "kept alive by the caller";
  ins.bind(1, std::int64_t{1}).bind(2, "one").bind_static(3, kept).run();
  ins.bind(1, std::int64_t{2}).bind(2, std::string_view("t\0o", 3)).bind_null(3).run();
  ins.bind(1, std::int64_t{3}).bind(2, "three").bind_null(3).run();

  sql::Stmt sel(db, "SELECT id, name, note FROM t ORDER BY id");
  REQUIRE(sel.step());
  CHECK(sel.i64(0) == 1);
  CHECK(sel.text(1) == "one");
  CHECK(sel.text(2) == kept);
  REQUIRE(sel.step());
  CHECK(sel.text(1) == std::string("t\0o", 3));  // embedded NUL kept
  CHECK(sel.is_null(2));
  CHECK(sel.text(2).empty());
  REQUIRE(sel.step());
  CHECK_FALSE(sel.step());

  // run() steps to completion and says how many rows changed.
  CHECK(sql::Stmt(db, "UPDATE t SET note = 'x' WHERE id >= 2").run() == 2);
  CHECK(db.changes() == 2);
  CHECK(sql::Stmt(db.raw(), "DELETE FROM t").run() == 3);
}

TEST_CASE("a transaction rolls back unless committed", "[sqlite]") {
  TempDir dir;
  sql::Db db(dir.file("t.db"));
  db.exec("CREATE TABLE t(v INTEGER)");
  {
    sql::Transaction tx(db);
    sql::Stmt(db, "INSERT INTO t VALUES(1)").run();
  }  // dropped: rolled back
  {
    sql::Transaction tx(db);
    sql::Stmt(db, "INSERT INTO t VALUES(2)").run();
    tx.commit();
  }
  sql::Stmt all(db, "SELECT group_concat(v) FROM t");
  REQUIRE(all.step());
  CHECK(all.text(0) == "2");
}

TEST_CASE("failures name the statement and carry SQLite's extended code", "[sqlite]") {
  TempDir dir;
  sql::Db db(dir.file("t.db"));
  db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY)");

  SECTION("a statement that does not prepare") {
    try {
      sql::Stmt(db, "SELECT * FROM missing_table");
      FAIL("prepared");
    } catch (const sql::Error& e) {
      CHECK_THAT(e.what(), Catch::Contains("no such table: missing_table") &&
                               Catch::Contains("SELECT * FROM missing_table"));
      CHECK(e.primary_code() == SQLITE_ERROR);
    }
  }
  SECTION("a constraint broken while stepping") {
    sql::Stmt ins(db, "INSERT INTO t(id) VALUES(?1)");
    ins.bind(1, std::int64_t{7}).run();
    try {
      ins.bind(1, std::int64_t{7}).run();
      FAIL("inserted twice");
    } catch (const sql::Error& e) {
      CHECK_THAT(e.what(), Catch::Contains("UNIQUE constraint failed: t.id") &&
                               Catch::Contains("INSERT INTO t(id)"));
      CHECK(e.code() == SQLITE_CONSTRAINT_PRIMARYKEY);
    }
    // The statement is usable again after the failure.
    CHECK(ins.bind(1, std::int64_t{8}).run() == 1);
  }
  SECTION("exec of a bad script") {
    CHECK_THROWS_WITH(db.exec("CREATE TABLE t(x)"), Catch::Contains("table t already exists") &&
                                                        Catch::Contains("CREATE TABLE t(x)"));
  }
  SECTION("a bind index out of range") {
    sql::Stmt one(db, "SELECT ?1");
    CHECK_THROWS_WITH(one.bind(2, std::int64_t{1}), Catch::Contains("sqlite bind 2"));
  }
}

TEST_CASE("read-only and unusable files are refused precisely", "[sqlite]") {
  TempDir dir;
  SECTION("read-only open of a missing file does not create it") {
    const std::string path = dir.file("missing.db");
    CHECK_THROWS_WITH(sql::Db(path, sql::Db::Open::ReadOnly),
                      Catch::Contains("cannot open database " + path));
    CHECK_FALSE(fs::exists(path));
  }
  SECTION("a read-only connection cannot write") {
    const std::string path = dir.file("ro.db");
    sql::Db(path).exec("CREATE TABLE t(v INTEGER)");
    sql::Db ro(path, sql::Db::Open::ReadOnly);
    try {
      ro.exec("INSERT INTO t VALUES(1)");
      FAIL("wrote");
    } catch (const sql::Error& e) {
      CHECK(e.primary_code() == SQLITE_READONLY);
    }
  }
  SECTION("a file that is not a database is corruption") {
    const std::string path = dir.file("junk.db");
    std::ofstream(path) << std::string(4096, 'j');
    sql::Db db(path);  // SQLite reads the header lazily
    try {
      db.exec("SELECT count(*) FROM sqlite_master");
      FAIL("read junk");
    } catch (const sql::Error& e) {
      CHECK(sql::is_corruption(e.code()));
    }
  }
}
