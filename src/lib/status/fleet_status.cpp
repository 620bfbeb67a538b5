#include "tsfleet/status/fleet_status.h"
#include "tsfleet/time_text.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>

#include <fmt/format.h>

namespace tsfleet::status {

using localapi::BackendState;
using localapi::PeerStatus;

std::string_view to_string(Presence p) noexcept {
  switch (p) {
    case Presence::self: return "self";
    case Presence::present: return "present";
    case Presence::missing: return "missing";
    case Presence::unexpected: return "unexpected";
  }
  return "missing";
}

std::string_view to_string(PathKind k) noexcept {
  switch (k) {
    case PathKind::none: return "none";
    case PathKind::local: return "local";
    case PathKind::direct: return "direct";
    case PathKind::derp: return "derp";
    case PathKind::peer_relay: return "peer-relay";
  }
  return "none";
}

std::string_view to_string(KeyState k) noexcept {
  switch (k) {
    case KeyState::none: return "none";
    case KeyState::ok: return "ok";
    case KeyState::expiring: return "expiring";
    case KeyState::expired: return "expired";
  }
  return "none";
}

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string first_label(std::string_view dns) {
  auto dot = dns.find('.');
  return lower(dns.substr(0, dot));
}

bool is_exit_route(const std::string& r) { return r == "0.0.0.0/0" || r == "::/0"; }

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

// Go's zero time, and anything that is not a time, counts as "never".
std::string time_or_empty(const std::string& t) { return parse_rfc3339(t) ? t : std::string(); }

std::int64_t system_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string ago(std::int64_t now, const std::string& when) {
  auto t = parse_rfc3339(when);
  if (!t) return "never";
  std::int64_t d = now - *t;
  if (d < 0) return "just now";
  if (d < 60) return fmt::format("{}s ago", d);
  if (d < 3600) return fmt::format("{}m ago", d / 60);
  if (d < 86400) return fmt::format("{}h ago", d / 3600);
  return fmt::format("{}d ago", d / 86400);
}

}  // namespace

std::optional<std::int64_t> parse_rfc3339(std::string_view s) noexcept {
  auto t = tsfleet::parse_rfc3339(s);
  if (!t) return std::nullopt;
  return std::chrono::floor<std::chrono::seconds>(t->time_since_epoch()).count();
}

// ---------------------------------------------------------------------------------------------

bool FleetStatus::ok() const {
  if (state != BackendState::running) return false;
  for (const auto& r : rows)
    if (!r.problems.empty()) return false;
  return true;
}

std::vector<std::string> FleetStatus::problem_lines() const {
  std::vector<std::string> out;
  if (state != BackendState::running) out.push_back(backend_state_advice(*this));
  for (const auto& r : rows)
    for (const auto& p : r.problems) out.push_back(r.name + ": " + p);
  return out;
}

FleetStatusBuilder::FleetStatusBuilder(const std::vector<HostPlan>& plans, StatusOptions options)
    : plans_(plans), options_(options), now_(options.now ? *options.now : system_now()) {
  matched_.resize(plans.size());
  for (std::size_t i = 0; i < plans.size(); ++i) {
    const auto& p = plans[i];
    by_name_.emplace(lower(p.prefs.hostname.empty() ? p.name : p.prefs.hostname), i);
  }
}

HostRow FleetStatusBuilder::make_row(const PeerStatus& p, bool is_self) const {
  HostRow r;
  r.host_name = p.host_name;
  r.dns_name = p.dns_name;
  r.os = p.os;
  r.id = p.id;
  r.tailscale_ips = p.tailscale_ips;
  r.online = p.online;
  r.active = p.active;
  r.home_derp = p.relay;
  if (is_self) {
    r.path = PathKind::local;
  } else if (!p.cur_addr.empty()) {
    r.path = PathKind::direct;
    r.via = p.cur_addr;
  } else if (!p.peer_relay.empty()) {
    r.path = PathKind::peer_relay;
    r.via = p.peer_relay;
  } else if (!p.relay.empty()) {
    r.path = PathKind::derp;
    r.via = p.relay;
  }
  r.last_handshake = time_or_empty(p.last_handshake);
  r.last_seen = time_or_empty(p.last_seen);
  r.exit_node_in_use = p.exit_node;
  r.exit_node_offered = p.exit_node_option;
  std::vector<std::string> own;
  for (const auto& ip : p.tailscale_ips) own.push_back(ip + (ip.find(':') == std::string::npos ? "/32" : "/128"));
  for (const auto& a : p.allowed_ips) {
    if (is_exit_route(a)) {
      if (is_self) r.exit_node_offered = true;  // Self has no ExitNodeOption of its own
      continue;
    }
    if (!contains(own, a)) r.routes.push_back(a);
  }
  r.primary_routes = p.primary_routes;
  r.tags = p.tags;
  r.key_expiry = time_or_empty(p.key_expiry);
  if (auto exp = parse_rfc3339(r.key_expiry)) {
    std::int64_t left = *exp - now_;
    r.key_days_left = left >= 0 ? left / 86400 : -((-left + 86399) / 86400);
    if (p.expired || left <= 0) r.key = KeyState::expired;
    else if (left < static_cast<std::int64_t>(options_.expiry_warning_days) * 86400) r.key = KeyState::expiring;
    else r.key = KeyState::ok;
  } else if (p.expired) {
    r.key = KeyState::expired;
  }
  return r;
}

void FleetStatusBuilder::place(HostRow&& row, bool is_self, const std::string& dns_label,
                               const std::string& host_name) {
  std::optional<std::size_t> idx;
  int quality = 0;
  if (auto it = by_name_.find(dns_label); !dns_label.empty() && it != by_name_.end()) {
    idx = it->second;
    quality = 2;
  } else if (auto it2 = by_name_.find(host_name); !host_name.empty() && it2 != by_name_.end()) {
    idx = it2->second;
    quality = 1;
  }
  if (!idx) {
    row.name = !dns_label.empty() ? dns_label : !host_name.empty() ? host_name : row.id;
    row.presence = is_self ? Presence::self : Presence::unexpected;
    if (is_self) self_ = std::move(row);
    else unexpected_.push_back(std::move(row));
    return;
  }
  const HostPlan& plan = plans_[*idx];
  row.name = plan.name;
  row.expected = true;
  row.match_name = plan.prefs.hostname.empty() ? plan.name : plan.prefs.hostname;
  row.presence = is_self ? Presence::self : Presence::present;
  auto& slot = matched_[*idx];
  // Two nodes answering to one inventory name (a reinstalled host's old node, a HostName clash):
  // the better match wins (DNS label over HostName, Self, then online); the other is unexpected.
  auto better = [&](const HostRow& a, int qa, const Candidate& b) {
    if (qa != b.quality) return qa > b.quality;
    if ((a.presence == Presence::self) != (b.row.presence == Presence::self)) return a.presence == Presence::self;
    return a.online && !b.row.online;
  };
  if (slot && !better(row, quality, *slot)) {
    HostRow loser = std::move(row);
    loser.expected = false;
    loser.presence = is_self ? Presence::self : Presence::unexpected;
    loser.name = !dns_label.empty() ? dns_label : host_name;
    loser.match_name.clear();
    loser.warnings.push_back(fmt::format("also answers to the inventory name {} (an old node of a reinstalled host?): remove it in the admin console",
                                         plan.name));
    if (is_self) self_ = std::move(loser);
    else unexpected_.push_back(std::move(loser));
    return;
  }
  if (slot) {
    HostRow loser = std::move(slot->row);
    loser.expected = false;
    loser.presence = loser.presence == Presence::self ? Presence::self : Presence::unexpected;
    loser.name = !first_label(loser.dns_name).empty() ? first_label(loser.dns_name) : lower(loser.host_name);
    loser.match_name.clear();
    loser.warnings.push_back(fmt::format("also answers to the inventory name {} (an old node of a reinstalled host?): remove it in the admin console",
                                         plan.name));
    if (loser.presence == Presence::self) {
      self_expected_ = false;
      self_ = std::move(loser);
    } else {
      unexpected_.push_back(std::move(loser));
    }
  }
  if (is_self) self_expected_ = true;
  slot = Candidate{std::move(row), quality};
}

void FleetStatusBuilder::set_self(const PeerStatus& self) {
  place(make_row(self, true), true, first_label(self.dns_name), lower(self.host_name));
}

void FleetStatusBuilder::add_peer(const PeerStatus& peer) {
  ++peers_;
  place(make_row(peer, false), false, first_label(peer.dns_name), lower(peer.host_name));
}

FleetStatus FleetStatusBuilder::finish(const localapi::Status& st) {
  FleetStatus out;
  out.backend_state = st.backend_state_text;
  out.state = st.backend_state;
  out.version = st.version;
  if (st.current_tailnet) out.tailnet = st.current_tailnet->name;
  out.magic_dns_suffix = st.current_tailnet && !st.current_tailnet->magic_dns_suffix.empty()
                             ? st.current_tailnet->magic_dns_suffix
                             : st.magic_dns_suffix;
  out.auth_url = st.auth_url;
  out.health = st.health;
  out.peer_count = peers_;
  out.now = now_;
  bool running = st.backend_state == BackendState::running;

  for (const auto& c : matched_)
    if (c && c->row.exit_node_in_use && c->row.presence != Presence::self) out.exit_node_in_use = c->row.name;
  for (const auto& u : unexpected_)
    if (u.exit_node_in_use) out.exit_node_in_use = u.name;

  std::vector<HostRow> rows;
  std::optional<HostRow> self_row;
  if (self_ && !self_expected_) self_row = std::move(self_);
  for (std::size_t i = 0; i < plans_.size(); ++i) {
    const HostPlan& plan = plans_[i];
    HostRow row;
    if (matched_[i]) {
      row = std::move(matched_[i]->row);
    } else {
      row.name = plan.name;
      row.expected = true;
      row.match_name = plan.prefs.hostname.empty() ? plan.name : plan.prefs.hostname;
      row.presence = Presence::missing;
    }
    row.expected_routes = plan.expect.offered_routes;
    if (running) {
      if (row.presence == Presence::missing) {
        row.problems.push_back(fmt::format("missing: no node named {} in this tailnet (run `tsfleet up --host {}` on it)",
                                           row.match_name, plan.name));
      } else {
        if (!row.online)
          row.problems.push_back(row.last_seen.empty() ? std::string("offline")
                                                       : fmt::format("offline (last seen {})", row.last_seen));
        if (row.key == KeyState::expired)
          row.problems.push_back(fmt::format("node key expired{}: re-authenticate with `tsfleet up --host {} --force-reauth`",
                                             row.key_expiry.empty() ? "" : " at " + row.key_expiry, plan.name));
      }
    }
    if (row.presence != Presence::missing) {
      if (row.key == KeyState::expiring)
        row.warnings.push_back(fmt::format("node key expires in {} day(s), at {}: re-authenticate before then, or disable key expiry for this node",
                                           row.key_days_left.value_or(0), row.key_expiry));
      if (plan.expect.reachable_directly && row.online && row.path == PathKind::derp)
        row.warnings.push_back(fmt::format("relayed through DERP ({}): a router should be reachable directly; open UDP {} (services.tailscale.openFirewall = true)",
                                           row.via, plan.port));
      for (const auto& r : plan.expect.offered_routes) {
        if (!contains(row.routes, r))
          row.warnings.push_back(fmt::format("route {} is not approved for it: approve it in the admin console (or with autoApprovers)", r));
        else if (!contains(row.primary_routes, r))
          row.warnings.push_back(fmt::format("route {} is served by another router (this one is standby)", r));
      }
      for (const auto& r : row.routes)
        if (!contains(plan.expect.offered_routes, r))
          row.warnings.push_back(fmt::format("serves route {}, which the fleet file does not list for it", r));
      if (plan.expect.offers_exit_node && !row.exit_node_offered)
        row.warnings.push_back("does not offer an exit node: approve it in the admin console (or with autoApprovers)");
      if (!plan.expect.offers_exit_node && row.exit_node_offered)
        row.warnings.push_back("offers an exit node, which the fleet file does not ask of it");
      if (row.presence == Presence::self && running) {
        std::string want = plan.expect.uses_exit_node.value_or("");
        if (want != "auto:any" && lower(want) != out.exit_node_in_use) {
          if (want.empty())
            row.warnings.push_back(fmt::format("uses {} as exit node, which the fleet file does not ask for", out.exit_node_in_use));
          else
            row.warnings.push_back(fmt::format("should use exit node {} but uses {}", want,
                                               out.exit_node_in_use.empty() ? "none" : out.exit_node_in_use));
        }
      }
    }
    if (row.presence == Presence::self) self_row = std::move(row);
    else rows.push_back(std::move(row));
  }
  if (self_row) {
    if (running && !self_row->online && !self_row->expected)
      self_row->warnings.push_back("this node is not connected to the control server");
    out.rows.push_back(std::move(*self_row));
  }
  for (auto& r : rows) out.rows.push_back(std::move(r));
  std::sort(unexpected_.begin(), unexpected_.end(),
            [](const HostRow& a, const HostRow& b) { return a.name < b.name; });
  for (auto& u : unexpected_) out.rows.push_back(std::move(u));
  unexpected_.clear();
  return out;
}

FleetStatus summarize_status_json(std::string_view json, const std::vector<HostPlan>& plans,
                                  const StatusOptions& options, std::string_view what,
                                  localapi::ParseWarnings* warnings) {
  FleetStatusBuilder b(plans, options);
  localapi::Status st = localapi::parse_status_streaming(
      json, [&](const std::string&, PeerStatus&& p) { b.add_peer(p); }, what, warnings);
  if (st.has_self) b.set_self(st.self);
  return b.finish(st);
}

FleetStatus summarize_status(const localapi::Status& status, const std::vector<HostPlan>& plans,
                             const StatusOptions& options) {
  FleetStatusBuilder b(plans, options);
  for (const auto& [k, p] : status.peer) b.add_peer(p);
  if (status.has_self) b.set_self(status.self);
  return b.finish(status);
}

std::string backend_state_advice(const FleetStatus& s) {
  switch (s.state) {
    case BackendState::running: return "";
    case BackendState::needs_login:
      return s.auth_url.empty() ? "NeedsLogin: this node is logged out: run `tsfleet up`"
                                : fmt::format("NeedsLogin: this node is logged out: run `tsfleet up` (or log in at {})", s.auth_url);
    case BackendState::needs_machine_auth:
      return "NeedsMachineAuth: this node is waiting for a tailnet admin to approve it (admin console, Machines)";
    case BackendState::stopped: return "Stopped: tailscale is down on this node: run `tsfleet up`";
    case BackendState::starting: return "Starting: tailscaled is still connecting: try again in a moment";
    case BackendState::no_state: return "NoState: tailscaled has not loaded its state yet: try again in a moment";
    case BackendState::in_use_other_user: return "InUseOtherUser: another user owns the tailscaled backend";
    case BackendState::unknown: break;
  }
  return fmt::format("{}: unexpected backend state", s.backend_state.empty() ? "(none)" : s.backend_state);
}

namespace {

std::string path_cell(const HostRow& r) {
  switch (r.path) {
    case PathKind::local: return "local";
    case PathKind::direct: return "direct " + r.via;
    case PathKind::derp: return "DERP(" + r.via + ")";
    case PathKind::peer_relay: return "peer-relay " + r.via;
    case PathKind::none: break;
  }
  return "-";
}

std::string where_cell(const HostRow& r) {
  if (r.presence == Presence::missing) return "missing";
  if (r.presence == Presence::unexpected) return "unexpected";
  if (r.presence == Presence::self) return r.expected ? "self" : "self (not in fleet)";
  return "present";
}

std::string exit_cell(const HostRow& r) {
  if (r.exit_node_in_use) return "in use";
  if (r.exit_node_offered) return "offered";
  return "-";
}

std::string routes_cell(const HostRow& r) {
  std::vector<std::string> parts;
  for (const auto& x : r.routes) parts.push_back(x + (contains(r.primary_routes, x) ? " (primary)" : " (standby)"));
  return parts.empty() ? "-" : join(parts, ", ");
}

std::string key_cell(const HostRow& r) {
  if (r.key == KeyState::none) return r.presence == Presence::missing ? "-" : "no expiry";
  std::string date = r.key_expiry.substr(0, 10);
  if (r.key == KeyState::expired) return "EXPIRED " + date;
  return fmt::format("{} ({}d){}", date, r.key_days_left.value_or(0), r.key == KeyState::expiring ? " soon" : "");
}

}  // namespace

std::string render_status_text(const FleetStatus& s, bool colour) {
  const char* red = colour ? "\033[31m" : "";
  const char* yellow = colour ? "\033[33m" : "";
  const char* off = colour ? "\033[0m" : "";
  std::string out;
  out += fmt::format("tailscaled: {}{}{}{}\n", s.backend_state.empty() ? "(no BackendState)" : s.backend_state,
                     s.version.empty() ? "" : ", version " + s.version,
                     s.tailnet.empty() ? "" : ", tailnet " + s.tailnet,
                     fmt::format(", {} peer(s)", s.peer_count));

  const std::vector<std::string> head{"HOST", "WHERE", "ONLINE", "PATH", "HANDSHAKE", "EXIT NODE", "ROUTES", "TAGS", "KEY EXPIRY"};
  std::vector<std::vector<std::string>> table;
  table.reserve(s.rows.size());
  for (const auto& r : s.rows) {
    bool missing = r.presence == Presence::missing;
    table.push_back({r.name, where_cell(r), missing ? "-" : r.online ? "yes" : "no", missing ? "-" : path_cell(r),
                     missing || r.presence == Presence::self ? "-" : ago(s.now, r.last_handshake), exit_cell(r), routes_cell(r),
                     r.tags.empty() ? "-" : join(r.tags, ","), key_cell(r)});
  }
  std::vector<std::size_t> width(head.size());
  for (std::size_t c = 0; c < head.size(); ++c) width[c] = head[c].size();
  for (const auto& row : table)
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  auto line = [&](const std::vector<std::string>& cells, const char* on) {
    std::string l = on;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      l += cells[c];
      if (c + 1 < cells.size()) l += std::string(width[c] - cells[c].size() + 2, ' ');
    }
    l += *on ? off : "";
    l += '\n';
    return l;
  };
  out += line(head, "");
  for (std::size_t i = 0; i < table.size(); ++i) {
    const auto& r = s.rows[i];
    out += line(table[i], !r.problems.empty() ? red : !r.warnings.empty() ? yellow : "");
  }

  std::string problems, warnings;
  for (const auto& r : s.rows) {
    for (const auto& p : r.problems) problems += fmt::format("  {}{}{}: {}\n", red, r.name, off, p);
    for (const auto& w : r.warnings) warnings += fmt::format("  {}{}{}: {}\n", yellow, r.name, off, w);
  }
  if (!problems.empty()) out += "\nproblems:\n" + problems;
  if (!warnings.empty()) out += "\nwarnings:\n" + warnings;
  if (!s.health.empty()) {
    out += "\nhealth:\n";
    for (const auto& h : s.health) out += "  - " + h + "\n";
  }
  if (s.state != BackendState::running) out += "\n" + backend_state_advice(s) + "\n";
  return out;
}

namespace {

nlohmann::json host_json(const HostRow& r) {
  using nlohmann::json;
  json h = {{"name", r.name},
              {"expected", r.expected},
              {"presence", to_string(r.presence)},
              {"online", r.online},
              {"active", r.active},
              {"path", {{"kind", to_string(r.path)}, {"via", r.via}, {"home_derp", r.home_derp}}},
              {"last_handshake", r.last_handshake.empty() ? json(nullptr) : json(r.last_handshake)},
              {"last_seen", r.last_seen.empty() ? json(nullptr) : json(r.last_seen)},
              {"exit_node", {{"offered", r.exit_node_offered}, {"in_use", r.exit_node_in_use}}},
              {"routes", {{"approved", r.routes}, {"primary", r.primary_routes}, {"expected", r.expected_routes}}},
              {"tags", r.tags},
              {"key_expiry", {{"at", r.key_expiry.empty() ? json(nullptr) : json(r.key_expiry)},
                              {"state", to_string(r.key)},
                              {"days_left", r.key_days_left ? json(*r.key_days_left) : json(nullptr)}}},
              {"problems", r.problems},
              {"warnings", r.warnings}};
    if (!r.match_name.empty()) h["match_name"] = r.match_name;
    if (r.presence != Presence::missing) {
      h["host_name"] = r.host_name;
      h["dns_name"] = r.dns_name;
      h["os"] = r.os;
      h["id"] = r.id;
      h["tailscale_ips"] = r.tailscale_ips;
    }
  return h;
}

// Everything but the hosts.
nlohmann::json report_json(const FleetStatus& s, std::string_view fleet_source) {
  using nlohmann::json;
  std::size_t expected = 0, present = 0, missing = 0, offline = 0, unexpected = 0, expired = 0, expiring = 0;
  for (const auto& r : s.rows) {
    if (r.expected) ++expected;
    if (r.expected && r.presence != Presence::missing) ++present;
    if (r.presence == Presence::missing) ++missing;
    if (r.presence == Presence::unexpected) ++unexpected;
    if (r.expected && r.presence != Presence::missing && !r.online) ++offline;
    if (r.key == KeyState::expired) ++expired;
    if (r.key == KeyState::expiring) ++expiring;
  }
  json j = {{"schema_version", kStatusSchemaVersion},
            {"fleet", fleet_source},
            {"backend_state", s.backend_state},
            {"version", s.version},
            {"tailnet", s.tailnet},
            {"magic_dns_suffix", s.magic_dns_suffix},
            {"health", s.health},
            {"exit_node_in_use", s.exit_node_in_use.empty() ? json(nullptr) : json(s.exit_node_in_use)},
            {"peer_count", s.peer_count},
            {"summary", {{"expected", expected}, {"present", present}, {"missing", missing}, {"offline", offline},
                         {"unexpected", unexpected}, {"key_expired", expired}, {"key_expiring", expiring}}},
            {"problems", s.problem_lines()},
            {"ok", s.ok()}};
  if (s.state != BackendState::running) j["advice"] = backend_state_advice(s);
  return j;
}

}  // namespace

nlohmann::json render_status_json(const FleetStatus& s, std::string_view fleet_source) {
  nlohmann::json j = report_json(s, fleet_source);
  nlohmann::json hosts = nlohmann::json::array();
  for (const auto& r : s.rows) hosts.push_back(host_json(r));
  j["hosts"] = std::move(hosts);
  return j;
}

std::string render_status_json_text(const FleetStatus& s, std::string_view fleet_source) {
  // The report without its hosts, pretty-printed; then the hosts spliced in, one compact object a
  // line, so a 50,000-peer report never exists as a JSON tree.
  std::string head = report_json(s, fleet_source).dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(head.size() + s.rows.size() * 900);
  out.append(head, 0, head.size() - 2);  // without "\n}"
  out += ",\n  \"hosts\": [";
  for (std::size_t i = 0; i < s.rows.size(); ++i) {
    out += i ? ",\n    " : "\n    ";
    out += host_json(s.rows[i]).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  out += s.rows.empty() ? "]\n}\n" : "\n  ]\n}\n";
  return out;
}

}  // namespace tsfleet::status
