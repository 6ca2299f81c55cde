#include "xml.h"

#include <cstring>

namespace chromapact::aws::xml {
namespace {

constexpr int kMaxDepth = 64;

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool IsNameChar(char c) {
  return c != '\0' && std::strchr(" \t\r\n/>=", c) == nullptr;
}

class Parser {
 public:
  explicit Parser(const std::string& doc) : s_(doc) {}

  Result<Element> Document() {
    SkipMisc();
    if (!At("<")) return Error("no root element");
    Element root;
    CP_RETURN_IF_ERROR(ParseElement(&root, 0));
    SkipMisc();
    if (pos_ != s_.size()) return Error("content after the root element");
    return root;
  }

 private:
  bool At(const char* lit) const { return s_.compare(pos_, std::strlen(lit), lit) == 0; }

  Status Error(const std::string& what) const {
    return Internal("xml: " + what + " at byte " + std::to_string(pos_));
  }

  void SkipSpace() {
    while (pos_ < s_.size() && std::strchr(" \t\r\n", s_[pos_]) != nullptr) ++pos_;
  }

  // Skips white space, <?...?>, <!--...--> and <!DOCTYPE ...> between elements.
  void SkipMisc() {
    while (true) {
      SkipSpace();
      size_t end = std::string::npos;
      if (At("<?")) {
        end = s_.find("?>", pos_);
        if (end != std::string::npos) end += 2;
      } else if (At("<!--")) {
        end = s_.find("-->", pos_);
        if (end != std::string::npos) end += 3;
      } else if (At("<!DOCTYPE")) {
        end = s_.find('>', pos_);
        if (end != std::string::npos) end += 1;
      } else {
        return;
      }
      if (end == std::string::npos) {
        pos_ = s_.size();
        return;
      }
      pos_ = end;
    }
  }

  Status ParseElement(Element* el, int depth) {
    if (depth >= kMaxDepth) return Error("nesting deeper than 64");
    ++pos_;  // '<'
    size_t start = pos_;
    while (pos_ < s_.size() && IsNameChar(s_[pos_])) ++pos_;
    if (pos_ == start) return Error("empty element name");
    el->name = s_.substr(start, pos_ - start);
    // Attributes are skipped (quoted values may hold '>').
    while (true) {
      if (pos_ >= s_.size()) return Error("unterminated start tag <" + el->name);
      char c = s_[pos_];
      if (c == '"' || c == '\'') {
        size_t q = s_.find(c, pos_ + 1);
        if (q == std::string::npos) return Error("unterminated attribute value");
        pos_ = q + 1;
      } else if (At("/>")) {
        pos_ += 2;
        return Status::Ok();
      } else if (c == '>') {
        ++pos_;
        break;
      } else {
        ++pos_;
      }
    }
    std::string raw;
    while (true) {
      if (pos_ >= s_.size()) return Error("unclosed element <" + el->name + ">");
      if (At("</")) {
        pos_ += 2;
        size_t gt = s_.find('>', pos_);
        if (gt == std::string::npos) return Error("unterminated end tag");
        std::string name = s_.substr(pos_, gt - pos_);
        while (!name.empty() && std::strchr(" \t\r\n", name.back()) != nullptr) name.pop_back();
        if (name != el->name) return Error("</" + name + "> closes <" + el->name + ">");
        pos_ = gt + 1;
        break;
      }
      if (At("<![CDATA[")) {
        size_t end = s_.find("]]>", pos_);
        if (end == std::string::npos) return Error("unterminated CDATA");
        CP_ASSIGN_OR_RETURN(std::string text, Unescape(raw));
        el->text += text;
        raw.clear();
        el->text += s_.substr(pos_ + 9, end - pos_ - 9);
        pos_ = end + 3;
        continue;
      }
      if (At("<!--") || At("<?")) {
        const char* close = At("<!--") ? "-->" : "?>";
        size_t end = s_.find(close, pos_);
        if (end == std::string::npos) return Error("unterminated comment");
        pos_ = end + std::strlen(close);
        continue;
      }
      if (s_[pos_] == '<') {
        el->children.emplace_back();
        CP_RETURN_IF_ERROR(ParseElement(&el->children.back(), depth + 1));
        continue;
      }
      size_t lt = s_.find('<', pos_);
      if (lt == std::string::npos) lt = s_.size();
      raw.append(s_, pos_, lt - pos_);
      pos_ = lt;
    }
    CP_ASSIGN_OR_RETURN(std::string text, Unescape(raw));
    el->text += text;
    return Status::Ok();
  }

  const std::string& s_;
  size_t pos_ = 0;
};

}  // namespace

const Element* Element::Child(const std::string& child_name) const {
  for (const auto& c : children) {
    if (c.name == child_name) return &c;
  }
  return nullptr;
}

std::vector<const Element*> Element::Children(const std::string& child_name) const {
  std::vector<const Element*> out;
  for (const auto& c : children) {
    if (c.name == child_name) out.push_back(&c);
  }
  return out;
}

std::string Element::ChildText(const std::string& child_name) const {
  const Element* c = Child(child_name);
  return c == nullptr ? "" : c->text;
}

Result<Element> Parse(const std::string& document) { return Parser(document).Document(); }

std::string Escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

Result<std::string> Unescape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out.push_back(text[i]);
      continue;
    }
    size_t semi = text.find(';', i);
    if (semi == std::string::npos || semi - i > 12) return Internal("xml: unterminated entity");
    std::string ent = text.substr(i + 1, semi - i - 1);
    if (ent == "amp") {
      out.push_back('&');
    } else if (ent == "lt") {
      out.push_back('<');
    } else if (ent == "gt") {
      out.push_back('>');
    } else if (ent == "quot") {
      out.push_back('"');
    } else if (ent == "apos") {
      out.push_back('\'');
    } else if (ent.size() >= 2 && ent[0] == '#') {
      const bool hex = ent[1] == 'x' || ent[1] == 'X';
      const std::string digits = ent.substr(hex ? 2 : 1);
      if (digits.empty()) return Internal("xml: empty character reference");
      uint32_t cp = 0;
      for (char d : digits) {
        int v;
        if (d >= '0' && d <= '9') {
          v = d - '0';
        } else if (hex && d >= 'a' && d <= 'f') {
          v = d - 'a' + 10;
        } else if (hex && d >= 'A' && d <= 'F') {
          v = d - 'A' + 10;
        } else {
          return Internal("xml: bad character reference &" + ent + ";");
        }
        cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(v);
        if (cp > 0x10FFFF) return Internal("xml: character reference out of range");
      }
      AppendUtf8(cp, &out);
    } else {
      return Internal("xml: unknown entity &" + ent + ";");
    }
    i = semi;
  }
  return out;
}

}  // namespace chromapact::aws::xml
