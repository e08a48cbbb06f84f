#pragma once
// rotq-eval's results: one row per pipeline, printed as a table and written as JSON, CSV and an
// SVG bar chart.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <rotq/detail/json.hpp>
#include <rotq/error.hpp>

namespace rotq_eval {

/// One row of the table: a pipeline, run once per seed.
struct row_result {
  std::string name;                  ///< "quarot", "quarot+gptq", ...
  std::string description;           ///< what the row does, one line
  std::vector<std::uint64_t> seeds;  ///< empty for deterministic rows
  std::vector<double> perplexity;    ///< one per seed (one for deterministic rows)
  std::vector<double> calibration_seconds;
  double invariance_error = 0.0;  ///< max over seeds of |ppl(no quantisation) / ppl_fp32 - 1|
  bool invariance_checked = false;
  std::string notes;  ///< chosen settings: alpha, adaptive decisions, ...

  double mean() const {
    double s = 0;
    for (double p : perplexity) s += p;
    return s / double(perplexity.size());
  }
  /// Sample standard deviation over seeds (0 for a single run).
  double stddev() const {
    if (perplexity.size() < 2) return 0.0;
    const double m = mean();
    double s = 0;
    for (double p : perplexity) s += (p - m) * (p - m);
    return std::sqrt(s / double(perplexity.size() - 1));
  }
  double min() const { return *std::min_element(perplexity.begin(), perplexity.end()); }
  double max() const { return *std::max_element(perplexity.begin(), perplexity.end()); }
  double mean_calibration_seconds() const {
    double s = 0;
    for (double c : calibration_seconds) s += c;
    return calibration_seconds.empty() ? 0.0 : s / double(calibration_seconds.size());
  }
};

/// The invariance check's tolerance: ppl with quantisation off within 1e-4 relative of fp32.
constexpr double invariance_tolerance = 1e-4;

/// (ppl_rtn - ppl) / (ppl_rtn - ppl_fp32): 1 closes the whole gap to fp32, 0 is RTN, < 0 worse.
inline double gap_closed(double ppl, double fp32, double rtn) { return (rtn - ppl) / (rtn - fp32); }

struct report {
  std::string model, text, quantisers, date;
  double fp32 = 0, rtn = 0;
  std::vector<row_result> rows;
};

namespace detail {

inline std::string format(const char* fmt, double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, fmt, v);
  return buffer;
}

inline std::string spread(const row_result& r) {
  return r.perplexity.size() > 1 ? format("%.4f", r.min()) + ".." + format("%.4f", r.max()) : "";
}

inline std::string invariance_text(const row_result& r) {
  if (!r.invariance_checked) return "";
  return std::string(r.invariance_error <= invariance_tolerance ? "pass" : "FAIL") + " (" +
         format("%.1e", r.invariance_error) + ")";
}

inline std::string xml_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else if (c == '"')
      out += "&quot;";
    else
      out += c;
  }
  return out;
}

/// A number as JSON writes it: null where it is not finite (JSON has no NaN or Infinity).
inline std::string json_number(double value) {
  if (!std::isfinite(value)) return "null";
  std::ostringstream text;
  text.precision(10);
  text << value;
  return text.str();
}

inline std::ofstream open_output(const std::string& path) {
  std::ofstream out(path);
  if (!out) throw rotq::error("rotq-eval: cannot write '" + path + "'");
  return out;
}

}  // namespace detail

inline void print_table(const report& r, std::FILE* out) {
  std::fprintf(out, "\n%s on %s, %s\n\n", r.model.c_str(), r.text.c_str(), r.quantisers.c_str());
  std::fprintf(out, "%-18s %-20s %-16s %-8s %-10s %-16s\n", "row", "perplexity", "min..max", "gap",
               "calib (s)", "invariance");
  for (const row_result& row : r.rows) {
    std::string ppl = detail::format("%.4f", row.mean());
    if (row.perplexity.size() > 1) ppl += " +- " + detail::format("%.4f", row.stddev());
    const std::string gap =
        row.name == "fp32" ? ""
                           : detail::format("%.1f%%", 100 * gap_closed(row.mean(), r.fp32, r.rtn));
    const std::string calib = row.calibration_seconds.empty()
                                  ? ""
                                  : detail::format("%.2f", row.mean_calibration_seconds());
    std::fprintf(out, "%-18s %-20s %-16s %-8s %-10s %-16s\n", row.name.c_str(), ppl.c_str(),
                 detail::spread(row).c_str(), gap.c_str(), calib.c_str(),
                 detail::invariance_text(row).c_str());
  }
  for (const row_result& row : r.rows)
    if (!row.notes.empty()) {
      // The table shows the start of long notes; the JSON keeps them whole.
      const std::string shown =
          row.notes.size() > 300 ? row.notes.substr(0, 300) + "..." : row.notes;
      std::fprintf(out, "  %s: %s\n", row.name.c_str(), shown.c_str());
    }
}

inline void write_json(const report& r, const std::string& path) {
  using detail::json_number;
  using rotq::detail::json_quote;
  std::ofstream out = detail::open_output(path);
  out << "{\n  \"model\": " << json_quote(r.model) << ",\n  \"text\": " << json_quote(r.text)
      << ",\n  \"quantisers\": " << json_quote(r.quantisers)
      << ",\n  \"date\": " << json_quote(r.date)
      << ",\n  \"fp32_perplexity\": " << json_number(r.fp32)
      << ",\n  \"rtn_perplexity\": " << json_number(r.rtn)
      << ",\n  \"invariance_tolerance\": " << json_number(invariance_tolerance)
      << ",\n  \"rows\": [";
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    const row_result& row = r.rows[i];
    out << (i ? "," : "") << "\n    {\"name\": " << json_quote(row.name)
        << ", \"description\": " << json_quote(row.description) << ", \"seeds\": [";
    for (std::size_t s = 0; s < row.seeds.size(); ++s) out << (s ? ", " : "") << row.seeds[s];
    out << "], \"perplexity\": [";
    for (std::size_t s = 0; s < row.perplexity.size(); ++s)
      out << (s ? ", " : "") << json_number(row.perplexity[s]);
    out << "], \"mean\": " << json_number(row.mean())
        << ", \"stddev\": " << json_number(row.stddev()) << ", \"min\": " << json_number(row.min())
        << ", \"max\": " << json_number(row.max())
        << ", \"gap_closed\": " << json_number(gap_closed(row.mean(), r.fp32, r.rtn))
        << ", \"calibration_seconds\": " << json_number(row.mean_calibration_seconds());
    if (row.invariance_checked)
      out << ", \"invariance_error\": " << json_number(row.invariance_error)
          << ", \"invariance_passed\": "
          << (row.invariance_error <= invariance_tolerance ? "true" : "false");
    out << ", \"notes\": " << json_quote(row.notes) << "}";
  }
  out << "\n  ]\n}\n";
}

inline void write_csv(const report& r, const std::string& path) {
  std::ofstream out = detail::open_output(path);
  out.precision(10);
  out << "row,mean_perplexity,stddev,min,max,seeds,gap_closed,calibration_seconds,invariance_error,"
         "invariance_passed\n";
  for (const row_result& row : r.rows) {
    out << row.name << "," << row.mean() << "," << row.stddev() << "," << row.min() << ","
        << row.max() << "," << row.perplexity.size() << "," << gap_closed(row.mean(), r.fp32, r.rtn)
        << "," << row.mean_calibration_seconds() << ",";
    if (row.invariance_checked)
      out << row.invariance_error << ","
          << (row.invariance_error <= invariance_tolerance ? "true" : "false");
    else
      out << ",";
    out << "\n";
  }
}

/// Horizontal bars of mean perplexity with min..max whiskers over seeds, and the fp32 and RTN
/// perplexities as reference lines.
inline void write_svg(const report& r, const std::string& path) {
  const double row_height = 26, left = 150, plot_width = 560, top = 56;
  const double height = top + row_height * double(r.rows.size()) + 50;
  double top_value = r.rtn;
  for (const row_result& row : r.rows) top_value = std::max(top_value, row.max());
  top_value *= 1.05;
  auto x = [&](double v) { return left + plot_width * v / top_value; };
  std::ofstream out = detail::open_output(path);
  out << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << left + plot_width + 200
      << "\" height=\"" << height << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"" << left << "\" y=\"20\" font-size=\"14\" font-weight=\"bold\">Perplexity, "
      << detail::xml_escape(r.quantisers) << " (lower is better)</text>\n"
      << "<text x=\"" << left << "\" y=\"38\" fill=\"#555\">" << detail::xml_escape(r.model)
      << " on " << detail::xml_escape(r.text)
      << "; bars: mean over seeds, whiskers: min..max</text>\n";
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    const row_result& row = r.rows[i];
    const double y = top + row_height * double(i);
    const bool gptq = row.name.find("gptq") != std::string::npos;
    const char* colour = row.name == "fp32"  ? "#2b8a3e"
                         : row.name == "rtn" ? "#c92a2a"
                         : gptq              ? "#5c7cfa"
                                             : "#1c7ed6";
    out << "<text x=\"" << left - 8 << "\" y=\"" << y + 16 << "\" text-anchor=\"end\">"
        << detail::xml_escape(row.name) << "</text>\n"
        << "<rect x=\"" << left << "\" y=\"" << y + 4 << "\" width=\"" << x(row.mean()) - left
        << "\" height=\"" << row_height - 8 << "\" fill=\"" << colour << "\"/>\n";
    if (row.perplexity.size() > 1)
      out << "<line x1=\"" << x(row.min()) << "\" x2=\"" << x(row.max()) << "\" y1=\"" << y + 13
          << "\" y2=\"" << y + 13 << "\" stroke=\"black\" stroke-width=\"1.5\"/>\n";
    out << "<text x=\"" << x(row.max()) + 4 << "\" y=\"" << y + 17 << "\">"
        << detail::format("%.3f", row.mean()) << "</text>\n";
  }
  const double bottom = top + row_height * double(r.rows.size());
  for (const auto& [value, label, colour] :
       {std::tuple<double, const char*, const char*>{r.fp32, "fp32", "#2b8a3e"},
        {r.rtn, "rtn", "#c92a2a"}})
    out << "<line x1=\"" << x(value) << "\" x2=\"" << x(value) << "\" y1=\"" << top << "\" y2=\""
        << bottom << "\" stroke=\"" << colour << "\" stroke-dasharray=\"4 3\"/>\n"
        << "<text x=\"" << x(value) << "\" y=\"" << bottom + 16
        << "\" text-anchor=\"middle\" fill=\"" << colour << "\">" << label << "</text>\n";
  out << "<line x1=\"" << left << "\" x2=\"" << left << "\" y1=\"" << top << "\" y2=\"" << bottom
      << "\" stroke=\"black\"/>\n</svg>\n";
}

}  // namespace rotq_eval
