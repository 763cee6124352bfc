#include "os/base/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

namespace seatlock {
namespace {

std::string directory_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

[[noreturn]] void fail(const std::string& what, int error) {
  throw AtomicWriteError(what + ": " + std::strerror(error), error);
}

// Owns the temporary file until it has been renamed: closes and unlinks it on every failure.
class TempFile {
 public:
  explicit TempFile(const std::string& path) {
    std::vector<char> name(path.begin(), path.end());
    const char suffix[] = ".tmp.XXXXXX";
    name.insert(name.end(), suffix, suffix + sizeof suffix);  // with the terminating NUL
    fd_ = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd_ < 0)
      fail("cannot create a temporary file in " + directory_of(path) + " for " + path, errno);
    name_ = name.data();
  }
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!renamed_) ::unlink(name_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  int fd() const { return fd_; }
  const std::string& name() const { return name_; }
  void close() {
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail("cannot write " + name_ + " (close)", errno);
  }
  void renamed() { renamed_ = true; }

 private:
  int fd_ = -1;
  std::string name_;
  bool renamed_ = false;
};

void write_all(const TempFile& tmp, std::string_view content) {
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(tmp.fd(), content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("cannot write " + tmp.name(), errno);
    done += static_cast<std::size_t>(n);
  }
}

void set_owner_and_mode(const TempFile& tmp, const AtomicWriteOptions& o) {
  if (o.uid || o.gid) {
    struct stat st {};
    if (::fstat(tmp.fd(), &st) != 0) fail("cannot stat " + tmp.name(), errno);
    uid_t uid = o.uid.value_or(st.st_uid);
    gid_t gid = o.gid.value_or(st.st_gid);
    if ((uid != st.st_uid || gid != st.st_gid) && ::fchown(tmp.fd(), uid, gid) != 0)
      fail("cannot set the owner of " + tmp.name() + " to " + std::to_string(uid) + ":" +
               std::to_string(gid),
           errno);
  }
  // After fchown, which may clear set-id bits.
  if (::fchmod(tmp.fd(), o.mode) != 0) fail("cannot set the mode of " + tmp.name(), errno);
}

void sync_directory(const std::string& dir, const std::string& path) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail("wrote " + path + " but cannot open its directory to sync it", errno);
  int rc = ::fsync(fd);
  int error = errno;
  ::close(fd);
  // EINVAL: a file system that cannot sync directories; the rename is as durable as it gets.
  if (rc != 0 && error != EINVAL)
    fail("wrote " + path + " but cannot sync its directory " + dir, error);
}

}  // namespace

void atomic_write(const std::string& path, std::string_view content,
                  const AtomicWriteOptions& options) {
  TempFile tmp(path);
  write_all(tmp, content);
  set_owner_and_mode(tmp, options);
  if (::fsync(tmp.fd()) != 0) fail("cannot sync " + tmp.name(), errno);
  tmp.close();
  if (::rename(tmp.name().c_str(), path.c_str()) != 0)
    fail("cannot rename " + tmp.name() + " to " + path, errno);
  tmp.renamed();
  sync_directory(directory_of(path), path);
}

bool atomic_write_if_changed(const std::string& path, std::string_view content, mode_t mode) {
  std::ifstream in(path, std::ios::binary);
  if (in) {
    const std::string held((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (held == content) return false;
  }
  atomic_write(path, content, mode);
  return true;
}

}  // namespace seatlock
