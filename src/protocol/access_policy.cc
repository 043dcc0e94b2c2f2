#include "protocol/access_policy.h"

#include <pugixml.hpp>

#include "common/time_util.h"
#include "protocol/xml_writer.h"

namespace tarn::protocol {
namespace {

constexpr size_t kMaxBody = 64 * 1024;
constexpr std::string_view kLetters = "racwdxltmeop";

Status Bad(const std::string& why) {
  return Error(Reason::kInvalidXml, "The stored access policies are not valid: " + why);
}

// The text of the only child element `name` of `parent`, or nullopt when it is absent.
StatusOr<std::optional<std::string>> Only(const pugi::xml_node& parent, const char* name) {
  std::optional<std::string> out;
  for (pugi::xml_node e = parent.child(name); e; e = e.next_sibling(name)) {
    if (out) return Bad(std::string("<") + name + "> is given twice");
    out = e.text().get();
  }
  return out;
}

}  // namespace

StatusOr<std::vector<AccessPolicy>> ParseSignedIdentifiers(std::string_view xml) {
  if (xml.size() > kMaxBody) return Bad("the document is over 64 KiB");
  std::vector<AccessPolicy> out;
  if (xml.find_first_not_of(" \t\r\n") == std::string_view::npos) return out;  // no body: none
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size())) return Bad("the body is not an XML document");
  pugi::xml_node root = doc.document_element();
  if (std::string_view(root.name()) != "SignedIdentifiers") {
    return Bad("the body must be a SignedIdentifiers document");
  }
  for (pugi::xml_node si : root.children()) {
    if (si.type() != pugi::node_element) continue;
    if (std::string_view(si.name()) != "SignedIdentifier") {
      return Bad("<SignedIdentifiers> holds only <SignedIdentifier>");
    }
    if (out.size() == kMaxAccessPolicies) return Bad("a container has at most 5 policies");
    AccessPolicy p;
    TARN_ASSIGN_OR_RETURN(auto id, Only(si, "Id"));
    if (!id || id->empty() || id->size() > 64) return Bad("each <Id> has 1 to 64 characters");
    for (char ch : *id) {
      if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7F) {
        return Bad("an <Id> holds a control character");
      }
    }
    for (const AccessPolicy& other : out) {
      if (other.id == *id) return Bad("the <Id> '" + *id + "' is given twice");
    }
    p.id = *id;
    pugi::xml_node ap = si.child("AccessPolicy");
    if (ap && ap.next_sibling("AccessPolicy")) return Bad("<AccessPolicy> is given twice");
    if (ap) {
      TARN_ASSIGN_OR_RETURN(auto start, Only(ap, "Start"));
      TARN_ASSIGN_OR_RETURN(auto expiry, Only(ap, "Expiry"));
      TARN_ASSIGN_OR_RETURN(auto permission, Only(ap, "Permission"));
      for (const auto* t : {&start, &expiry}) {
        if (*t && !(*t)->empty() && !ParseIso8601(**t)) {
          return Bad("Start and Expiry must be ISO 8601 times, such as 2026-01-01T00:00:00Z");
        }
      }
      p.start = start.value_or("");
      p.expiry = expiry.value_or("");
      p.permission = permission.value_or("");
      for (size_t i = 0; i < p.permission.size(); ++i) {
        const char ch = p.permission[i];
        if (kLetters.find(ch) == std::string_view::npos ||
            p.permission.find(ch, i + 1) != std::string::npos) {
          return Bad("a Permission holds SAS letters (" + std::string(kLetters) +
                     "), each at most once");
        }
      }
    }
    out.push_back(std::move(p));
  }
  return out;
}

std::string FormatSignedIdentifiers(const std::vector<AccessPolicy>& policies) {
  if (policies.empty()) return "";
  XmlWriter x;
  x.Open("SignedIdentifiers");
  for (const AccessPolicy& p : policies) {
    x.Open("SignedIdentifier").Leaf("Id", p.id).Open("AccessPolicy");
    if (!p.start.empty()) x.Leaf("Start", p.start);
    if (!p.expiry.empty()) x.Leaf("Expiry", p.expiry);
    if (!p.permission.empty()) x.Leaf("Permission", p.permission);
    x.Close("AccessPolicy").Close("SignedIdentifier");
  }
  x.Close("SignedIdentifiers");
  return x.str();
}

std::optional<AccessPolicy> FindAccessPolicy(std::string_view stored, std::string_view id) {
  auto policies = ParseSignedIdentifiers(stored);
  if (!policies.ok()) return std::nullopt;
  for (AccessPolicy& p : *policies) {
    if (p.id == id) return std::move(p);
  }
  return std::nullopt;
}

}  // namespace tarn::protocol
