// examples/cifar_compare/report/report_document.hpp: a report as a list of blocks, rendered to Markdown or HTML.
//
// Blocks are headings, paragraphs, bullet lists, tables and figures. A figure names a file in the
// report folder and carries its content: Markdown links to the file; the HTML page is
// self-contained, with SVG figures inlined and PNG figures embedded as base64 data: URIs. All
// text is escaped for the target format, and the HTML is also well-formed XML (XHTML syntax).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "tinynet/core/error.hpp"
#include "cifar_compare/report/base64.hpp"
#include "cifar_compare/report/svg.hpp"

namespace tinynet_examples {

using namespace tinynet;

struct ReportTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  // each as long as header
};

class ReportDocument {
 public:
  explicit ReportDocument(std::string title) : title_(std::move(title)) {}

  // requires: level 2..4 (the title is the only level-1 heading).
  void heading(std::string text, int level = 2) {
    check(level >= 2 && level <= 4, "ReportDocument: heading level ", level, " for '", text, "' (use 2..4)");
    blocks_.push_back({Kind::heading, level, std::move(text), {}, {}});
  }
  void paragraph(std::string text) { blocks_.push_back({Kind::paragraph, 0, std::move(text), {}, {}}); }
  void bullets(std::vector<std::string> items) { blocks_.push_back({Kind::bullets, 0, "", std::move(items), {}}); }
  // requires: every row as long as the header.
  void table(ReportTable table) {
    for (const auto& row : table.rows)
      check(row.size() == table.header.size(), "ReportDocument: table row of ", row.size(), " cells under a header of ",
            table.header.size());
    blocks_.push_back({Kind::table, 0, "", {}, std::move(table)});
  }
  // requires: file ends in ".svg" (content: the SVG document) or ".png" (content: the PNG bytes).
  void figure(const std::string& file, std::string caption, std::string content) {
    const bool svg = ends_with(file, ".svg"), png = ends_with(file, ".png");
    check(svg || png, "ReportDocument: figure '", file, "' is neither .svg nor .png");
    blocks_.push_back({Kind::figure, 0, std::move(caption), {file, std::move(content)}, {}});
  }

  // ensures: the report as Markdown; figures link to their files.
  std::string markdown() const {
    std::string md = "# " + md_escape(title_) + "\n";
    for (const auto& b : blocks_) {
      md += "\n";
      switch (b.kind) {
        case Kind::heading:
          md += std::string(static_cast<std::size_t>(b.level), '#') + " " + md_escape(b.text) + "\n";
          break;
        case Kind::paragraph: md += md_escape(b.text) + "\n"; break;
        case Kind::bullets:
          for (const auto& item : b.items) md += "- " + md_escape(item) + "\n";
          break;
        case Kind::table:
          md += md_row(b.table.header);
          md += "|" + repeat(" --- |", b.table.header.size()) + "\n";
          for (const auto& row : b.table.rows) md += md_row(row);
          break;
        case Kind::figure: md += "![" + md_escape(b.text) + "](" + b.items[0] + ")\n"; break;
      }
    }
    return md;
  }

  // ensures: a self-contained HTML page (no external resources), well-formed as XML.
  std::string html() const {
    const std::string title = xml_escape(title_);
    std::string page = "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n";
    page +=
        "<head>\n<meta charset=\"utf-8\"/>\n<title>" + title + "</title>\n<style>\n" + style() + "</style>\n</head>\n";
    page += "<body>\n<h1>" + title + "</h1>\n";
    for (const auto& b : blocks_) {
      switch (b.kind) {
        case Kind::heading: {
          const std::string tag = "h" + std::to_string(b.level);
          page += "<" + tag + ">" + xml_escape(b.text) + "</" + tag + ">\n";
          break;
        }
        case Kind::paragraph: page += "<p>" + xml_escape(b.text) + "</p>\n"; break;
        case Kind::bullets:
          page += "<ul>\n";
          for (const auto& item : b.items) page += "<li>" + xml_escape(item) + "</li>\n";
          page += "</ul>\n";
          break;
        case Kind::table:
          page += "<table>\n<thead>" + html_row("th", b.table.header) + "</thead>\n<tbody>\n";
          for (const auto& row : b.table.rows) page += html_row("td", row);
          page += "</tbody>\n</table>\n";
          break;
        case Kind::figure: {
          const std::string& file = b.items[0];
          const std::string& content = b.items[1];
          page += "<figure>\n";
          if (ends_with(file, ".svg"))
            page += content;
          else
            page += "<img alt=\"" + xml_escape(b.text) + "\" src=\"data:image/png;base64," + base64_encode(content) +
                    "\"/>\n";
          page += "<figcaption>" + xml_escape(b.text) + " (" + xml_escape(file) + ")</figcaption>\n</figure>\n";
          break;
        }
      }
    }
    return page + "</body>\n</html>\n";
  }

 private:
  enum class Kind { heading, paragraph, bullets, table, figure };
  struct Block {
    Kind kind;
    int level;
    std::string text;                // heading/paragraph text, figure caption
    std::vector<std::string> items;  // bullets; for a figure {file, content}
    ReportTable table;
  };

  static bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
  }
  static std::string repeat(const std::string& s, std::size_t n) {
    std::string out;
    for (std::size_t i = 0; i < n; ++i) out += s;
    return out;
  }
  // Backslash-escapes Markdown's inline markup characters; newlines become spaces.
  static std::string md_escape(const std::string& text) {
    std::string out;
    for (const char c : text) {
      if (c == '\n' || c == '\r') {
        out += ' ';
        continue;
      }
      if (std::string("\\`*_[]<>|").find(c) != std::string::npos) out += '\\';
      out += c;
    }
    return out;
  }
  static std::string md_row(const std::vector<std::string>& cells) {
    std::string row = "|";
    for (const auto& c : cells) row += " " + md_escape(c) + " |";
    return row + "\n";
  }
  static std::string html_row(const std::string& tag, const std::vector<std::string>& cells) {
    std::string row = "<tr>";
    for (const auto& c : cells) row += "<" + tag + ">" + xml_escape(c) + "</" + tag + ">";
    return row + "</tr>\n";
  }
  static std::string style() {
    return "body { font-family: DejaVu Sans, Helvetica, Arial, sans-serif; max-width: 1200px; margin: 2em auto; "
           "padding: 0 1em; color: #222222; }\n"
           "table { border-collapse: collapse; margin: 1em 0; }\n"
           "th, td { border: 1px solid #cccccc; padding: 4px 10px; text-align: left; }\n"
           "th { background: #f2f2f2; }\n"
           "figure { margin: 1.5em 0; }\n"
           "figcaption { color: #555555; font-size: 90%; }\n"
           "svg, img { max-width: 100%; height: auto; }\n";
  }

  std::string title_;
  std::vector<Block> blocks_;
};

}  // namespace tinynet_examples
