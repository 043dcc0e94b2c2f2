#include "protocol/query_request.h"

#include <pugixml.hpp>

#include "common/strings.h"

namespace tarn::protocol {
namespace {

using Input = tabular::BlobQueryRequest::Input;
using Output = tabular::BlobQueryRequest::Output;

Status Bad(const std::string& why) {
  return Error(Reason::kInvalidXml, "The query request is not valid: " + why);
}

// The only child element `name` of `parent`, or an empty node when it is absent.
StatusOr<pugi::xml_node> Only(const pugi::xml_node& parent, const char* name) {
  pugi::xml_node e = parent.child(name);
  if (e && e.next_sibling(name)) return Bad(std::string("<") + name + "> is given twice");
  return e;
}

// The element's text; `absent` when the element is missing, `empty` when it has no text.
StatusOr<std::string> Text(const pugi::xml_node& parent, const char* name, const char* absent,
                           const char* empty) {
  TARN_ASSIGN_OR_RETURN(pugi::xml_node e, Only(parent, name));
  if (!e) return std::string(absent);
  std::string v = e.text().get();
  return v.empty() ? std::string(empty) : v;
}

StatusOr<tabular::DelimitedDialect> Delimited(const pugi::xml_node& format) {
  tabular::DelimitedDialect d;
  TARN_ASSIGN_OR_RETURN(pugi::xml_node c, Only(format, "DelimitedTextConfiguration"));
  if (!c) return d;
  TARN_ASSIGN_OR_RETURN(d.column_separator, Text(c, "ColumnSeparator", ",", ","));
  TARN_ASSIGN_OR_RETURN(d.field_quote, Text(c, "FieldQuote", "\"", ""));
  TARN_ASSIGN_OR_RETURN(d.record_separator, Text(c, "RecordSeparator", "\n", "\n"));
  TARN_ASSIGN_OR_RETURN(d.escape, Text(c, "EscapeChar", "", ""));
  TARN_ASSIGN_OR_RETURN(std::string headers, Text(c, "HasHeaders", "false", "false"));
  if (EqualsIgnoreCase(headers, "true")) {
    d.headers = true;
  } else if (!EqualsIgnoreCase(headers, "false")) {
    return Bad("<HasHeaders> is true or false, not '" + headers + "'");
  }
  return d;
}

StatusOr<std::string> JsonSeparator(const pugi::xml_node& format) {
  TARN_ASSIGN_OR_RETURN(pugi::xml_node c, Only(format, "JsonTextConfiguration"));
  if (!c) return std::string("\n");
  return Text(c, "RecordSeparator", "\n", "\n");
}

// The <Format> of a serialization and its <Type>, lowercased.
StatusOr<std::pair<pugi::xml_node, std::string>> Format(const pugi::xml_node& serialization,
                                                        const char* which) {
  TARN_ASSIGN_OR_RETURN(pugi::xml_node format, Only(serialization, "Format"));
  if (!format) return Bad(std::string("<") + which + "> needs a <Format>");
  TARN_ASSIGN_OR_RETURN(std::string type, Text(format, "Type", "", ""));
  if (type.empty()) return Bad(std::string("the <Format> of <") + which + "> needs a <Type>");
  return std::pair{format, ToLower(type)};
}

}  // namespace

StatusOr<QueryRequest> ParseQueryRequest(std::string_view xml) {
  if (xml.size() > kMaxQueryBody) return Bad("the document is over 512 KiB");
  pugi::xml_document doc;
  // Whitespace is data here: a tab or a space may separate columns.
  if (!doc.load_buffer(xml.data(), xml.size(), pugi::parse_default | pugi::parse_ws_pcdata)) {
    return Bad("the body is not an XML document");
  }
  pugi::xml_node root = doc.document_element();
  if (std::string_view(root.name()) != "QueryRequest") {
    return Bad("the body must be a QueryRequest document");
  }
  QueryRequest q;
  TARN_ASSIGN_OR_RETURN(std::string type, Text(root, "QueryType", "", ""));
  if (!EqualsIgnoreCase(type, "SQL")) return Bad("<QueryType> must be SQL");
  TARN_ASSIGN_OR_RETURN(pugi::xml_node expression, Only(root, "Expression"));
  if (!expression) return Bad("it needs an <Expression>");
  q.expression = expression.text().get();
  if (q.expression.find_first_not_of(" \t\r\n") == std::string::npos) {
    return Bad("the <Expression> is empty");
  }
  if (q.expression.size() > kMaxQueryExpression) return Bad("the <Expression> is over 256 KiB");
  TARN_ASSIGN_OR_RETURN(pugi::xml_node in, Only(root, "InputSerialization"));
  if (in) {
    TARN_ASSIGN_OR_RETURN(auto f, Format(in, "InputSerialization"));
    if (f.second == "delimited" || f.second == "csv") {
      TARN_ASSIGN_OR_RETURN(q.in, Delimited(f.first));
    } else if (f.second == "json") {
      q.input = Input::kJson;
    } else if (f.second == "parquet") {
      q.input = Input::kParquet;
    } else {
      return Bad("the input <Type> is delimited, json or parquet, not '" + f.second + "'");
    }
  }
  TARN_ASSIGN_OR_RETURN(pugi::xml_node out, Only(root, "OutputSerialization"));
  if (out) {
    TARN_ASSIGN_OR_RETURN(auto f, Format(out, "OutputSerialization"));
    if (f.second == "delimited" || f.second == "csv") {
      TARN_ASSIGN_OR_RETURN(q.out, Delimited(f.first));
    } else if (f.second == "json") {
      q.output = Output::kJson;
      TARN_ASSIGN_OR_RETURN(q.out.record_separator, JsonSeparator(f.first));
    } else if (f.second == "arrow") {
      q.arrow_output = true;
    } else {
      return Bad("the output <Type> is delimited, json or arrow, not '" + f.second + "'");
    }
  }
  return q;
}

}  // namespace tarn::protocol
