#include "protocol/service_properties.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <pugixml.hpp>
#include <sstream>

#include "common/encoding.h"
#include "common/strings.h"

namespace tarn::protocol {
namespace {

// The top-level elements, in the order Azure writes them.
constexpr const char* kElements[] = {"Logging", "HourMetrics", "MinuteMetrics", "Cors",
                                     "DefaultServiceVersion", "DeleteRetentionPolicy",
                                     "StaticWebsite"};
constexpr const char* kMethods[] = {"DELETE", "GET", "HEAD", "MERGE",
                                    "POST",   "OPTIONS", "PUT", "PATCH"};
constexpr size_t kMaxBody = 64 * 1024;
constexpr size_t kMaxRules = 5, kMaxOrigins = 64, kMaxHeaders = 64, kMaxPrefixed = 2;

const std::map<std::string, std::string>& Defaults() {
  static const std::map<std::string, std::string> d = {
      {"Logging",
       "<Logging><Version>1.0</Version><Read>false</Read><Write>false</Write><Delete>false"
       "</Delete><RetentionPolicy><Enabled>false</Enabled></RetentionPolicy></Logging>"},
      {"HourMetrics",
       "<HourMetrics><Version>1.0</Version><Enabled>false</Enabled><RetentionPolicy><Enabled>"
       "false</Enabled></RetentionPolicy></HourMetrics>"},
      {"MinuteMetrics",
       "<MinuteMetrics><Version>1.0</Version><Enabled>false</Enabled><RetentionPolicy><Enabled>"
       "false</Enabled></RetentionPolicy></MinuteMetrics>"},
      {"Cors", "<Cors />"},
      {"DeleteRetentionPolicy",
       "<DeleteRetentionPolicy><Enabled>false</Enabled></DeleteRetentionPolicy>"},
      {"StaticWebsite", "<StaticWebsite><Enabled>false</Enabled></StaticWebsite>"}};
  return d;
}

Status Bad(const std::string& why) { return Error(Reason::kInvalidXml, why); }

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return s;
}

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  for (std::string_view part : Split(text, ',')) {
    std::string t(Trim(part));
    if (!t.empty()) out.push_back(std::move(t));
  }
  return out;
}

std::string Print(const pugi::xml_node& n) {
  std::ostringstream os;
  n.print(os, "", pugi::format_raw);
  return os.str();
}

bool Enabled(const pugi::xml_node& n) {
  return Lower(std::string(Trim(n.child_value("Enabled")))) == "true";
}

Status CheckHeaders(const std::vector<std::string>& headers, const char* what) {
  size_t prefixed = 0;
  for (const std::string& h : headers) {
    if (h.size() > 256) return Bad(std::string(what) + ": a header name is over 256 characters");
    if (h != "*" && h.find('*') != std::string::npos) {
      if (h.back() != '*' || h.find('*') != h.size() - 1) {
        return Bad(std::string(what) + ": '" + h + "' may end in one '*', nowhere else");
      }
      ++prefixed;
    }
  }
  if (headers.size() - prefixed > kMaxHeaders || prefixed > kMaxPrefixed) {
    return Bad(std::string(what) + ": at most 64 headers and 2 prefixes ('x-ms-meta-*')");
  }
  return Status::Ok();
}

StatusOr<CorsRule> ParseRule(const pugi::xml_node& r) {
  CorsRule rule;
  for (const char* required : {"AllowedOrigins", "AllowedMethods", "MaxAgeInSeconds"}) {
    if (!r.child(required)) return Bad(std::string("a CorsRule needs ") + required);
  }
  rule.origins = SplitList(r.child_value("AllowedOrigins"));
  if (rule.origins.empty() || rule.origins.size() > kMaxOrigins) {
    return Bad("AllowedOrigins: from 1 to 64 origins, or *");
  }
  for (const std::string& o : rule.origins) {
    if (o.size() > 256) return Bad("AllowedOrigins: an origin is over 256 characters");
  }
  for (std::string m : SplitList(r.child_value("AllowedMethods"))) {
    std::transform(m.begin(), m.end(), m.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    if (std::find(std::begin(kMethods), std::end(kMethods), m) == std::end(kMethods)) {
      return Bad("AllowedMethods: '" + m + "' is not one of DELETE, GET, HEAD, MERGE, POST, "
                 "OPTIONS, PUT, PATCH");
    }
    rule.methods.push_back(m);
  }
  if (rule.methods.empty()) return Bad("AllowedMethods: name at least one method");
  for (const std::string& h : SplitList(r.child_value("AllowedHeaders"))) {
    rule.allowed_headers.push_back(Lower(h));
  }
  rule.exposed_headers = SplitList(r.child_value("ExposedHeaders"));
  TARN_RETURN_IF_ERROR(CheckHeaders(rule.allowed_headers, "AllowedHeaders"));
  TARN_RETURN_IF_ERROR(CheckHeaders(rule.exposed_headers, "ExposedHeaders"));
  const std::string age(Trim(r.child_value("MaxAgeInSeconds")));
  auto [end, ec] = std::from_chars(age.data(), age.data() + age.size(), rule.max_age_s);
  if (age.empty() || ec != std::errc() || end != age.data() + age.size() || rule.max_age_s < 0) {
    return Bad("MaxAgeInSeconds must be a whole number of seconds");
  }
  return rule;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

std::string XmlText(const std::string& s) {
  std::string out;
  for (char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out += ch;
    }
  }
  return out;
}

std::string CorsXml(const std::vector<CorsRule>& rules) {
  if (rules.empty()) return "<Cors />";
  std::string x = "<Cors>";
  for (const CorsRule& r : rules) {
    x += "<CorsRule><AllowedOrigins>" + XmlText(Join(r.origins)) + "</AllowedOrigins>" +
         "<AllowedMethods>" + Join(r.methods) + "</AllowedMethods>" + "<MaxAgeInSeconds>" +
         std::to_string(r.max_age_s) + "</MaxAgeInSeconds>" + "<ExposedHeaders>" +
         XmlText(Join(r.exposed_headers)) + "</ExposedHeaders>" + "<AllowedHeaders>" +
         XmlText(Join(r.allowed_headers)) + "</AllowedHeaders></CorsRule>";
  }
  return x + "</Cors>";
}

std::string Document(const std::map<std::string, std::string>& elements) {
  std::string x = "<?xml version=\"1.0\" encoding=\"utf-8\"?><StorageServiceProperties>";
  for (const char* e : kElements) {
    if (auto it = elements.find(e); it != elements.end()) x += it->second;
  }
  return x + "</StorageServiceProperties>";
}

bool OriginMatches(const CorsRule& r, const std::string& origin) {
  return std::any_of(r.origins.begin(), r.origins.end(), [&](const std::string& o) {
    return o == "*" || EqualsIgnoreCase(o, origin);
  });
}

bool MethodMatches(const CorsRule& r, const std::string& method) {
  return std::find(r.methods.begin(), r.methods.end(), method) != r.methods.end();
}

bool HeaderAllowed(const CorsRule& r, const std::string& header) {
  const std::string h = Lower(header);
  return std::any_of(r.allowed_headers.begin(), r.allowed_headers.end(), [&](const auto& a) {
    return a == "*" || a == h ||
           (!a.empty() && a.back() == '*' && h.rfind(a.substr(0, a.size() - 1), 0) == 0);
  });
}

bool Wildcard(const CorsRule& r) {
  return std::find(r.origins.begin(), r.origins.end(), "*") != r.origins.end();
}

// A page's path in $web: relative, of Azure's name limits, no "." or ".." segment, no control
// character.
bool ValidPagePath(const std::string& p, bool one_segment) {
  if (p.empty() || p.size() > 1024 || p.front() == '/' || !IsValidUtf8(p)) return false;
  if (one_segment && p.find('/') != std::string::npos) return false;
  for (char ch : p) {
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7F || ch == '\\') return false;
  }
  for (auto seg : Split(p, '/')) {
    if (seg.empty() || seg == "." || seg == "..") return false;
  }
  return true;
}

StatusOr<StaticWebsite> ParseWebsite(const pugi::xml_node& e) {
  StaticWebsite site;
  site.enabled = Enabled(e);
  if (!site.enabled) return site;
  site.index_document = Trim(e.child_value("IndexDocument"));
  site.default_index_path = Trim(e.child_value("DefaultIndexDocumentPath"));
  site.error_404_path = Trim(e.child_value("ErrorDocument404Path"));
  if (!site.index_document.empty() && !site.default_index_path.empty()) {
    return Bad("a StaticWebsite takes IndexDocument or DefaultIndexDocumentPath, not both");
  }
  if (!site.index_document.empty() && !ValidPagePath(site.index_document, true)) {
    return Bad("IndexDocument must be a file name (no '/'), such as index.html");
  }
  for (const std::string* p : {&site.default_index_path, &site.error_404_path}) {
    if (!p->empty() && !ValidPagePath(*p, false)) {
      return Bad("'" + *p + "' is not a path in $web: give it relative, such as "
                 "errors/404.html, with no '.' or '..' segment");
    }
  }
  return site;
}

std::string WebsiteXml(const StaticWebsite& site) {
  if (!site.enabled) return "<StaticWebsite><Enabled>false</Enabled></StaticWebsite>";
  std::string out = "<StaticWebsite><Enabled>true</Enabled>";
  if (!site.index_document.empty()) {
    out += "<IndexDocument>" + XmlEscape(site.index_document) + "</IndexDocument>";
  }
  if (!site.error_404_path.empty()) {
    out += "<ErrorDocument404Path>" + XmlEscape(site.error_404_path) +
           "</ErrorDocument404Path>";
  }
  if (!site.default_index_path.empty()) {
    out += "<DefaultIndexDocumentPath>" + XmlEscape(site.default_index_path) +
           "</DefaultIndexDocumentPath>";
  }
  return out + "</StaticWebsite>";
}

Status SysError(const std::string& what) {
  return InternalError(what + ": " + std::strerror(errno));
}

}  // namespace

StatusOr<ParsedProperties> ParseServiceProperties(std::string_view body) {
  if (body.size() > kMaxBody) return Bad("the service properties document is over 64 KiB");
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) {
    return Bad("the body is not an XML document");
  }
  pugi::xml_node root = doc.child("StorageServiceProperties");
  if (!root) return Bad("the body must be a StorageServiceProperties document");
  ParsedProperties out;
  for (pugi::xml_node e : root.children()) {
    if (e.type() != pugi::node_element) continue;
    const std::string name = e.name();
    if (std::find(std::begin(kElements), std::end(kElements), name) == std::end(kElements)) {
      return Bad("unknown element <" + name + "> in StorageServiceProperties");
    }
    if (out.elements.count(name)) return Bad("<" + name + "> is given twice");
    if (name == "Cors") {
      std::vector<CorsRule> rules;
      for (pugi::xml_node r : e.children()) {
        if (r.type() != pugi::node_element) continue;
        if (std::string(r.name()) != "CorsRule") return Bad("<Cors> holds only <CorsRule>");
        if (rules.size() == kMaxRules) return Bad("at most 5 CORS rules");
        TARN_ASSIGN_OR_RETURN(CorsRule rule, ParseRule(r));
        rules.push_back(std::move(rule));
      }
      out.elements[name] = CorsXml(rules);
      out.cors = std::move(rules);
      continue;
    }
    if (name == "DeleteRetentionPolicy") {
      // Soft delete: kept for Days (1 to 365, as Azure allows) when enabled.
      int64_t days = 0;
      if (Enabled(e)) {
        if (!ParseInt64(Trim(e.child_value("Days")), &days) || days < 1 || days > 365) {
          return Bad("a DeleteRetentionPolicy that is enabled needs Days from 1 to 365");
        }
        out.elements[name] = "<DeleteRetentionPolicy><Enabled>true</Enabled><Days>" +
                             std::to_string(days) + "</Days></DeleteRetentionPolicy>";
      } else {
        out.elements[name] = "<DeleteRetentionPolicy><Enabled>false</Enabled>"
                             "</DeleteRetentionPolicy>";
      }
      out.retention_days = days;
      continue;
    }
    if (name == "StaticWebsite") {
      TARN_ASSIGN_OR_RETURN(StaticWebsite site, ParseWebsite(e));
      out.elements[name] = WebsiteXml(site);
      out.website = std::move(site);
      continue;
    }
    out.elements[name] = Print(e);
  }
  return out;
}

ServiceProperties::ServiceProperties(std::string dir) : dir_(std::move(dir)) {}

StatusOr<ParsedProperties> ServiceProperties::Load(const std::string& account) const {
  std::ifstream in(dir_ + "/" + account + ".xml", std::ios::binary);
  if (!in) return ParsedProperties{};
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseServiceProperties(ss.str());
}

const std::vector<CorsRule>& ServiceProperties::Rules(const std::string& account) {
  auto it = rules_.find(account);
  if (it != rules_.end()) return it->second;
  std::vector<CorsRule> rules;
  auto stored = Load(account);
  if (stored.ok() && stored->cors) rules = *stored->cors;
  return rules_.emplace(account, std::move(rules)).first->second;
}

StatusOr<std::string> ServiceProperties::Get(const std::string& account) {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, std::string> elements = Defaults();
  TARN_ASSIGN_OR_RETURN(ParsedProperties stored, Load(account));
  for (auto& [k, v] : stored.elements) elements[k] = v;
  return Document(elements);
}

Status ServiceProperties::Set(const std::string& account, std::string_view body) {
  TARN_ASSIGN_OR_RETURN(ParsedProperties given, ParseServiceProperties(body));
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, std::string> elements = Defaults();
  TARN_ASSIGN_OR_RETURN(ParsedProperties stored, Load(account));
  for (auto& [k, v] : stored.elements) elements[k] = v;
  for (auto& [k, v] : given.elements) elements[k] = v;
  const std::string path = dir_ + "/" + account + ".xml";
  const std::string doc = Document(elements);
  if (::mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST) return SysError("cannot create " + dir_);
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return SysError("cannot create " + tmp);
  bool ok = ::write(fd, doc.data(), doc.size()) == static_cast<ssize_t>(doc.size()) &&
            ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  errno = saved;
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) return SysError("cannot write " + path);
  if (int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  if (given.cors) rules_[account] = *given.cors;
  if (given.retention_days) retention_[account] = *given.retention_days;
  if (given.website) website_[account] = *given.website;
  return Status::Ok();
}

StaticWebsite ServiceProperties::Website(const std::string& account) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = website_.find(account);
  if (it != website_.end()) return it->second;
  auto stored = Load(account);
  StaticWebsite site = stored.ok() && stored->website ? *stored->website : StaticWebsite{};
  website_.emplace(account, site);
  return site;
}

int64_t ServiceProperties::DeleteRetentionDays(const std::string& account) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = retention_.find(account);
  if (it != retention_.end()) return it->second;
  auto stored = Load(account);
  const int64_t days = stored.ok() && stored->retention_days ? *stored->retention_days : 0;
  retention_.emplace(account, days);
  return days;
}

std::optional<http::Headers> ServiceProperties::Preflight(const std::string& account,
                                                          const std::string& origin,
                                                          const std::string& method,
                                                          const std::string& request_headers) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::vector<std::string> wanted = SplitList(request_headers);
  for (const CorsRule& r : Rules(account)) {
    if (!OriginMatches(r, origin) || !MethodMatches(r, method)) continue;
    if (!std::all_of(wanted.begin(), wanted.end(),
                     [&](const std::string& h) { return HeaderAllowed(r, h); })) {
      continue;
    }
    http::Headers h{{"Access-Control-Allow-Origin", Wildcard(r) ? "*" : origin},
                    {"Access-Control-Allow-Methods", Join(r.methods)},
                    {"Access-Control-Max-Age", std::to_string(r.max_age_s)}};
    if (!wanted.empty()) h.emplace_back("Access-Control-Allow-Headers", Join(wanted));
    if (!Wildcard(r)) {
      h.emplace_back("Access-Control-Allow-Credentials", "true");
      h.emplace_back("Vary", "Origin");
    }
    return h;
  }
  return std::nullopt;
}

http::Headers ServiceProperties::ForRequest(const std::string& account, const std::string& origin,
                                            const std::string& method) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const CorsRule& r : Rules(account)) {
    if (!OriginMatches(r, origin) || !MethodMatches(r, method)) continue;
    http::Headers h{{"Access-Control-Allow-Origin", Wildcard(r) ? "*" : origin}};
    if (!r.exposed_headers.empty()) {
      h.emplace_back("Access-Control-Expose-Headers", Join(r.exposed_headers));
    }
    if (!Wildcard(r)) {
      h.emplace_back("Access-Control-Allow-Credentials", "true");
      h.emplace_back("Vary", "Origin");
    }
    return h;
  }
  return {};
}

}  // namespace tarn::protocol
