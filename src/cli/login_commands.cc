// tarn login / tarn logout: a person's sign-in to tarnd's token service, kept for the CLI and
// the Python SDK in ~/.tarn/login.json (client/login_cache.h).
#include <sodium.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "client/discovery.h"
#include "client/login_cache.h"
#include "client/oauth_token.h"

namespace tarn::cli {
namespace {

struct LoginFlags {
  std::string tenant, username, client_id = client::kPublicClientId, ca_file;
  bool password_stdin = false;
};

std::optional<std::string> Env(const std::string& k) {
  const char* v = std::getenv(k.c_str());
  if (!v || !*v) return std::nullopt;
  return std::string(v);
}

// A config.json value (the file the other commands would use), or "".
std::string FromConfig(const Globals& g, const char* key) {
  std::error_code ec;
  std::optional<std::string> path =
      g.flags.config.empty() ? client::FindConfig(std::filesystem::current_path(ec).string())
                             : std::optional<std::string>(g.flags.config);
  if (!path) return "";
  std::ifstream in(*path);
  auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return "";
  return j[key].get<std::string>();
}

std::string Pick(const std::string& flag, const char* var, const Globals& g, const char* key) {
  if (!flag.empty()) return flag;
  if (auto v = Env(var)) return *v;
  return FromConfig(g, key);
}

}  // namespace

StatusOr<std::string> ReadPassword(bool from_stdin, const std::string& username) {
  std::string line;
  if (from_stdin) {
    if (!std::getline(std::cin, line)) {
      return Status(Code::kInvalidArgument, "--password-stdin: stdin holds no password line");
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }
  FILE* tty = std::fopen("/dev/tty", "r+");
  if (!tty) {
    return Status(Code::kInvalidArgument,
                  "no terminal to ask for the password on: pipe it with --password-stdin");
  }
  std::fprintf(tty, "Password for %s: ", username.c_str());
  std::fflush(tty);
  termios saved{};
  const bool restore = tcgetattr(fileno(tty), &saved) == 0;
  if (restore) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
  }
  char buf[1024];
  const bool got = std::fgets(buf, sizeof buf, tty) != nullptr;
  if (restore) tcsetattr(fileno(tty), TCSAFLUSH, &saved);
  std::fprintf(tty, "\n");
  std::fclose(tty);
  if (!got) return Status(Code::kInvalidArgument, "no password was typed");
  line = buf;
  sodium_memzero(buf, sizeof buf);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  return line;
}

namespace {

Status Login(Globals& g, const LoginFlags& f) {
  client::Login login;
  login.endpoint = Pick(g.flags.endpoint, "TARN_ENDPOINT", g, "tarn_endpoint");
  while (!login.endpoint.empty() && login.endpoint.back() == '/') login.endpoint.pop_back();
  if (login.endpoint.rfind("https://", 0) != 0) {
    return Status(Code::kInvalidArgument,
                  "tarn login needs tarnd's https endpoint, since passwords and tokens travel "
                  "only over TLS: give --endpoint https://HOST:PORT (tarnd prints it when it "
                  "starts)" + (login.endpoint.empty() ? std::string() : "; '" + login.endpoint +
                                                                           "' is not https"));
  }
  TARN_ASSIGN_OR_RETURN(client::Endpoint ep, client::ParseEndpoint(login.endpoint));
  login.authority = ep.Origin();
  if (ep.path_prefix.size() > 1) login.account = ep.path_prefix.substr(1);
  login.endpoint = ep.Origin();
  if (!g.flags.account.empty()) login.account = g.flags.account;
  login.tenant = Pick(f.tenant, "TARN_TENANT", g, "tenant_id");
  if (login.tenant.empty()) {
    return Status(Code::kInvalidArgument,
                  "name your tenant: --tenant TENANT_ID (or TARN_TENANT, or \"tenant_id\" in "
                  "config.json); your administrator has it");
  }
  login.client_id = f.client_id;
  login.ca_file = Pick(f.ca_file, "TARN_CA_FILE", g, "ca_file");
  if (login.ca_file.empty()) {
    if (auto v = Env("REQUESTS_CA_BUNDLE")) login.ca_file = *v;
  }
  if (!login.ca_file.empty()) {
    std::error_code ec;
    login.ca_file = std::filesystem::absolute(login.ca_file, ec).string();
  }
  TARN_ASSIGN_OR_RETURN(client::ConnectionOptions opts, client::TrustingOptions(login.ca_file));
  client::TokenSet tokens;
  if (!f.username.empty()) {
    TARN_ASSIGN_OR_RETURN(std::string password, ReadPassword(f.password_stdin, f.username));
    TARN_ASSIGN_OR_RETURN(tokens, client::SignInWithPassword(login.authority, login.tenant,
                                                             login.client_id, f.username,
                                                             password, client::kWorkspaceScope,
                                                             opts));
  } else {
    TARN_ASSIGN_OR_RETURN(client::DeviceCodeFlow flow,
                          client::StartDeviceCode(login.authority, login.tenant, login.client_id,
                                                  client::kWorkspaceScope, opts));
    std::fprintf(stderr, "%s\nWaiting for the sign-in (the code expires in %lld minutes)...\n",
                 flow.message.c_str(), static_cast<long long>(flow.expires_in / 60));
    TARN_ASSIGN_OR_RETURN(tokens, client::FinishDeviceCode(login.authority, login.tenant,
                                                           login.client_id, flow, opts, {}));
  }
  if (tokens.refresh_token.empty()) {
    return Status(Code::kInternal, "the token service at " + login.authority +
                                       " gave no refresh token, so the sign-in cannot be kept");
  }
  login.username = tokens.username.empty() ? f.username : tokens.username;
  login.refresh_token = tokens.refresh_token;
  const std::string dir = client::LoginDir(Env);
  TARN_RETURN_IF_ERROR(client::WriteLogin(dir, login));
  if (g.json) {
    PrintJson({{"username", login.username},
               {"endpoint", login.endpoint},
               {"tenant", login.tenant},
               {"login_file", dir + "/login.json"}});
  } else {
    Print("Signed in to " + login.endpoint + " as " + login.username + " (tenant " +
          login.tenant + ").\nThe sign-in is kept in " + dir +
          "/login.json (readable by you only); `tarn logout` removes it.\n");
  }
  return Status::Ok();
}

}  // namespace

void AddLoginCommands(CLI::App& app, Globals& g, std::function<Status()>& run) {
  auto f = std::make_shared<LoginFlags>();
  auto* login = app.add_subcommand(
      "login",
      "Sign in as yourself. Without --username: a device code to enter on tarnd's sign-in page\n"
      "(in any browser). With it: the password, asked for on the terminal. The CLI and the\n"
      "Python SDK then use this sign-in; an account key is used only when TARN_ACCOUNT_KEY is "
      "set.");
  login->add_option("--tenant", f->tenant, "Tenant id (or TARN_TENANT, or config.json tenant_id)");
  login->add_option("--username,-u", f->username, "Sign in with this user's password");
  login->add_flag("--password-stdin", f->password_stdin,
                  "Read the password from the first line of stdin (for scripts)");
  login->add_option("--client-id", f->client_id, "Public client to sign in with")
      ->default_str(client::kPublicClientId);
  login->add_option("--ca-file", f->ca_file,
                    "PEM CA certificates to trust for tarnd's https endpoint (or TARN_CA_FILE, "
                    "REQUESTS_CA_BUNDLE); e.g. DIR/tls/cert.pem of tarnd's data directory");
  OnRun(login, run, [&g, f]() { return Login(g, *f); });
  login->preparse_callback([&g](size_t) { g.standalone = true; });

  auto* logout = app.add_subcommand("logout", "Forget the sign-in `tarn login` kept");
  OnRun(logout, run, [&g]() -> Status {
    const std::string dir = client::LoginDir(Env);
    TARN_ASSIGN_OR_RETURN(bool removed, client::RemoveLogin(dir));
    if (g.json) {
      PrintJson({{"signed_out", removed}});
    } else {
      Print(removed ? "Signed out: removed " + dir + "/login.json.\n"
                    : std::string("Not signed in: there was no login to remove.\n"));
    }
    return Status::Ok();
  });
  logout->preparse_callback([&g](size_t) { g.standalone = true; });
}

}  // namespace tarn::cli
