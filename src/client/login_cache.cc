#include "client/login_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "http/tls.h"

namespace tarn::client {
namespace {

constexpr char kFile[] = "/login.json";

Status Errno(const std::string& what) {
  return Status(Code::kFailedPrecondition, what + ": " + std::strerror(errno));
}

}  // namespace

std::string LoginDir(const EnvGet& env) {
  if (auto home = env("TARN_HOME"); home && !home->empty()) return *home;
  if (auto home = env("HOME"); home && !home->empty()) return *home + "/.tarn";
  return "";
}

StatusOr<std::optional<Login>> ReadLogin(const std::string& dir) {
  if (dir.empty()) return std::optional<Login>();
  const std::string path = dir + kFile;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<Login>();
    return Errno("cannot read " + path);
  }
  struct stat st {};
  std::string text;
  bool ok = ::fstat(fd, &st) == 0;
  if (ok && (st.st_mode & 077) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%03o", static_cast<unsigned>(st.st_mode & 0777));
    return Status(Code::kFailedPrecondition,
                  path + " may be read by others (mode " + mode + "): run `chmod 600 " + path +
                      "`, or `tarn logout` and sign in again");
  }
  char buf[4096];
  for (ssize_t n; ok && (n = ::read(fd, buf, sizeof buf)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      ok = false;
      break;
    }
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > (1 << 20)) ok = false;
  }
  ::close(fd);
  if (!ok) return Errno("cannot read " + path);
  TARN_ASSIGN_OR_RETURN(Login l, ParseLogin(text, path));
  return std::optional<Login>(std::move(l));
}

StatusOr<Login> ParseLogin(std::string_view text, const std::string& path) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return Status(Code::kFailedPrecondition,
                  path + " is not a login this version understands; run `tarn login` again");
  }
  auto str = [&](const char* k) {
    auto it = j.find(k);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  Login l;
  l.endpoint = str("endpoint");
  l.authority = str("authority");
  l.tenant = str("tenant");
  l.client_id = str("client_id");
  l.username = str("username");
  l.refresh_token = str("refresh_token");
  l.ca_file = str("ca_file");
  l.account = str("account");
  if (l.endpoint.empty() || l.authority.empty() || l.tenant.empty() || l.refresh_token.empty()) {
    return Status(Code::kFailedPrecondition,
                  path + " lacks its endpoint, tenant or token; run `tarn login` again");
  }
  if (l.client_id.empty()) l.client_id = kPublicClientId;
  return l;
}

std::string FormatLogin(const Login& l) {
  const nlohmann::json j{{"endpoint", l.endpoint},   {"authority", l.authority},
                         {"tenant", l.tenant},       {"client_id", l.client_id},
                         {"username", l.username},   {"refresh_token", l.refresh_token},
                         {"ca_file", l.ca_file},     {"account", l.account}};
  return j.dump(2) + "\n";
}

Status WriteLogin(const std::string& dir, const Login& l) {
  if (dir.empty()) {
    return Status(Code::kFailedPrecondition,
                  "nowhere to keep the login: set HOME (or TARN_HOME)");
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return Errno("cannot create " + dir);
  if (::chmod(dir.c_str(), 0700) != 0) return Errno("cannot restrict " + dir + " to its owner");
  const std::string text = FormatLogin(l);
  const std::string path = dir + kFile;
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Errno("cannot write " + tmp);
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status s = Errno("cannot write " + tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (::fchmod(fd, 0600) != 0 || ::fsync(fd) != 0) {
    Status s = Errno("cannot write " + tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status s = Errno("cannot replace " + path);
    ::unlink(tmp.c_str());
    return s;
  }
  return Status::Ok();
}

StatusOr<bool> RemoveLogin(const std::string& dir) {
  if (dir.empty()) return false;
  const std::string path = dir + kFile;
  if (::unlink(path.c_str()) == 0) return true;
  if (errno == ENOENT) return false;
  return Errno("cannot remove " + path);
}

StatusOr<ConnectionOptions> TrustingOptions(const std::string& ca_file) {
  ConnectionOptions o;
  if (!ca_file.empty()) {
    auto tls = http::TlsContext::ForClient(ca_file);
    if (!tls.ok()) {
      return Status(Code::kInvalidArgument,
                    "cannot use the CA file " + ca_file + ": " + tls.status().message());
    }
    o.tls = std::shared_ptr<const http::TlsContext>(std::move(tls).value());
  }
  return o;
}

StatusOr<std::shared_ptr<TokenSource>> UserTokens(const Login& login, const std::string& scope) {
  TARN_ASSIGN_OR_RETURN(ConnectionOptions o, TrustingOptions(login.ca_file));
  UserRefresh u{login.authority, login.tenant, login.client_id, login.refresh_token, scope};
  TARN_ASSIGN_OR_RETURN(auto s, TokenSource::Create(std::move(u), o));
  return std::shared_ptr<TokenSource>(std::move(s));
}

}  // namespace tarn::client
