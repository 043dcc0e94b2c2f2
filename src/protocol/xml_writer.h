// A tiny streaming XML writer for the Blob API's response bodies.
#pragma once

#include <initializer_list>
#include <string>
#include <utility>
#include <string_view>

#include "common/encoding.h"

namespace tarn::protocol {

class XmlWriter {
 public:
  XmlWriter() { s_ = "<?xml version=\"1.0\" encoding=\"utf-8\"?>"; }
  XmlWriter& Open(std::string_view tag) {
    s_ += '<';
    s_ += tag;
    s_ += '>';
    return *this;
  }
  XmlWriter& OpenWithAttrs(
      std::string_view tag,
      std::initializer_list<std::pair<std::string_view, std::string_view>> attrs) {
    s_ += '<';
    s_ += tag;
    for (const auto& [name, value] : attrs) {
      s_ += ' ';
      s_ += name;
      s_ += "=\"";
      s_ += XmlEscape(value);
      s_ += '"';
    }
    s_ += '>';
    return *this;
  }
  XmlWriter& Close(std::string_view tag) {
    s_ += "</";
    s_ += tag;
    s_ += '>';
    return *this;
  }
  XmlWriter& Leaf(std::string_view tag, std::string_view text) {
    if (text.empty()) {
      s_ += '<';
      s_ += tag;
      s_ += " />";
      return *this;
    }
    Open(tag);
    s_ += XmlEscape(text);
    return Close(tag);
  }
  const std::string& str() const { return s_; }

 private:
  std::string s_;
};

}  // namespace tarn::protocol
