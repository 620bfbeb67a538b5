#include "tsfleet/fleet.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "tsfleet/error.h"
#include "tsfleet/redact.h"
#include "tsfleet/suggest.h"
#include "tsfleet/tailscale_flags.h"

namespace tsfleet {

using nlohmann::json;

const std::vector<std::string>& host_keys() {
  static const std::vector<std::string> keys = {
      "description",   "hostname",        "roles",           "routes",
      "exit_node",     "exit_node_allow_lan_access",          "accept_routes",
      "accept_dns",    "tags",            "lan_interface",   "auth_key",
      "login_server",  "dns",             "firewall",        "port",
      "interface_name", "userspace_networking", "netfilter_mode", "nftables",
      "no_logs",       "disable_taildrop", "permit_cert_uid", "ssh",
      "operator",      "health_check",    "network_tuning",  "extra_up_flags",
      "extra_set_flags", "extra_daemon_flags"};
  return keys;
}

bool is_valid_hostname(std::string_view s) {
  if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

bool is_valid_tag(std::string_view s) {
  if (s.substr(0, 4) != "tag:" || s.size() < 5) return false;
  std::string_view n = s.substr(4);
  if (!std::isalpha(static_cast<unsigned char>(n[0]))) return false;
  return std::all_of(n.begin(), n.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; });
}

const Host* Fleet::find(std::string_view name) const {
  for (const auto& h : hosts)
    if (h.name == name) return &h;
  return nullptr;
}

namespace {

const std::vector<std::string> kTopKeys = {"$schema", "schema_version", "tailnet", "nixos_release", "tag_owners", "defaults", "hosts"};
const std::vector<std::string> kAuthKeyKeys = {"sops", "sops_file", "agenix", "age_file", "path", "parameters"};
const std::vector<std::string> kAuthParamKeys = {"ephemeral", "preauthorized", "base_url"};
const std::vector<std::string> kDnsKeys = {"mode", "upstreams", "fallback", "dnssec", "dns_over_tls"};
const std::vector<std::string> kFirewallKeys = {"open_firewall", "trusted_interfaces"};
const std::vector<std::string> kHealthKeys = {"enable", "interval", "restart"};
const std::vector<std::string> kRoleNames = {"client", "subnet-router", "exit-node"};

// A value and the JSON path it came from (a host's own key, or `defaults`).
struct Field {
  const json* v = nullptr;
  std::string path;
};

class Loader {
 public:
  explicit Loader(const JsonDocument& doc) : doc_(doc) {}

  Fleet run() {
    const json& root = doc_.value;
    if (!root.is_object()) fail("", "the fleet file must be a JSON object with \"schema_version\" and \"hosts\"");
    scan_for_secrets(root, "");
    check_keys(root, "", kTopKeys, "the top level");

    Fleet fleet;
    fleet.source = doc_.filename;
    if (!root.contains("schema_version")) fail("", fmt::format("missing \"schema_version\": add \"schema_version\": {} at the top", kFleetSchemaVersion));
    const json& sv = root["schema_version"];
    if (!sv.is_number_integer() || sv.get<int64_t>() != kFleetSchemaVersion)
      fail("schema_version", fmt::format("unsupported schema_version {}: this tsfleet reads version {}", sv.dump(-1, ' ', false, json::error_handler_t::replace), kFleetSchemaVersion));

    if (root.contains("tailnet")) {
      fleet.tailnet = string_at({&root["tailnet"], "tailnet"});
      if (fleet.tailnet.empty() || fleet.tailnet.find_first_of(" /\"\\$") != std::string::npos)
        fail("tailnet", "the tailnet must be its DNS name, e.g. \"tail1234.ts.net\"");
    }

    fleet.release = NixosRelease{25, 11, false};
    if (root.contains("nixos_release")) {
      std::string r = string_at({&root["nixos_release"], "nixos_release"});
      auto rel = parse_nixos_release(r);
      if (!rel) fail("nixos_release", fmt::format("\"{}\" is not a NixOS release: write \"YY.05\", \"YY.11\" (e.g. \"25.11\") or \"unstable\"", r));
      if (!rel->at_least(oldest_supported_release()))
        fail("nixos_release", fmt::format("NixOS {} is not supported: tsfleet generates for {} and later (services.tailscale.useRoutingFeatures appeared in 23.05)",
                                          r, oldest_supported_release().to_string()));
      fleet.release = *rel;
    }

    if (root.contains("tag_owners")) {
      Field f{&root["tag_owners"], "tag_owners"};
      const json& o = object_at(f);
      fleet.tag_owners.emplace();
      for (auto it = o.begin(); it != o.end(); ++it) {
        std::string path = json_path_member("tag_owners", it.key());
        if (!is_valid_tag(it.key())) fail(path, fmt::format("\"{}\" is not a valid tag: write \"tag:name\"", it.key()), true);
        (*fleet.tag_owners)[it.key()] = strings_at({&it.value(), path});
      }
    }

    static const json empty = json::object();
    const json* defaults = &empty;
    if (root.contains("defaults")) {
      defaults = &root["defaults"];
      if (!defaults->is_object()) fail("defaults", "\"defaults\" must be an object of host settings");
      check_keys(*defaults, "defaults", host_keys(), "defaults");
      for (const char* k : {"hostname", "description", "routes", "lan_interface"})
        if (defaults->contains(k)) fail(json_path_member("defaults", k), fmt::format("\"{}\" is per host: move it into each host", k));
    }

    if (!root.contains("hosts")) fail("", "missing \"hosts\": add \"hosts\": { \"name\": { \"roles\": [\"client\"] } }");
    const json& hosts = root["hosts"];
    if (!hosts.is_object() || hosts.empty()) fail("hosts", "\"hosts\" must be an object with at least one host, keyed by host name");
    for (auto it = hosts.begin(); it != hosts.end(); ++it) {
      fleet.hosts.push_back(load_host(it.key(), it.value(), *defaults));
    }
    // nlohmann's object is sorted by key; the inventory order is by position in the file.
    std::stable_sort(fleet.hosts.begin(), fleet.hosts.end(), [&](const Host& a, const Host& b) {
      auto pa = doc_.key_pos(json_path_member("hosts", a.name)), pb = doc_.key_pos(json_path_member("hosts", b.name));
      return std::pair(pa.line, pa.col) < std::pair(pb.line, pb.col);
    });
    cross_check(fleet);
    return fleet;
  }

 private:
  const JsonDocument& doc_;

  [[noreturn]] void fail(const std::string& path, const std::string& what, bool at_key = false) const {
    if (path.empty()) throw Error(ErrorCategory::input, fmt::format("{}: {}", doc_.where(path, at_key), what));
    throw Error(ErrorCategory::input, fmt::format("{}: {}: {}", doc_.where(path, at_key), path, what));
  }

  void scan_for_secrets(const json& v, const std::string& path) const {
    if (v.is_string()) {
      if (v.get_ref<const std::string&>().find("tskey-") != std::string::npos)
        fail(path, "this looks like a Tailscale auth key (it starts with tskey); keys never go in the fleet file: store it in a sops-nix or agenix secret and write \"auth_key\": {\"sops\": \"NAME\"} (the value is not shown here)");
    } else if (v.is_object()) {
      for (auto it = v.begin(); it != v.end(); ++it) {
        std::string child = json_path_member(path, it.key());
        if (it.key().find("tskey-") != std::string::npos)  // neither the key nor its path is shown
          throw Error(ErrorCategory::input,
                      fmt::format("{}: a member name looks like a Tailscale auth key (it starts with tskey); keys never go in the fleet file: remove it and store the key in a secret (not shown here)",
                                  doc_.where(child, true)));
        scan_for_secrets(it.value(), child);
      }
    } else if (v.is_array()) {
      for (size_t i = 0; i < v.size(); ++i) scan_for_secrets(v[i], json_path_index(path, i));
    }
  }

  void check_keys(const json& obj, const std::string& path, const std::vector<std::string>& allowed, const std::string& where) const {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      if (std::find(allowed.begin(), allowed.end(), it.key()) != allowed.end()) continue;
      std::string child = json_path_member(path, it.key());
      auto guess = closest_match(it.key(), allowed);
      if (guess) fail(child, fmt::format("unknown key \"{}\" in {}: did you mean \"{}\"?", it.key(), where, *guess), true);
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      fail(child, fmt::format("unknown key \"{}\" in {}: the keys are {}", it.key(), where, list), true);
    }
  }

  static const char* type_name(const json& v) {
    switch (v.type()) {
      case json::value_t::null: return "null";
      case json::value_t::boolean: return "a boolean";
      case json::value_t::number_integer:
      case json::value_t::number_unsigned: return "an integer";
      case json::value_t::number_float: return "a number";
      case json::value_t::string: return "a string";
      case json::value_t::array: return "an array";
      case json::value_t::object: return "an object";
      default: return "a value";
    }
  }

  std::string string_at(const Field& f) const {
    if (!f.v->is_string()) fail(f.path, fmt::format("expected a string, found {}", type_name(*f.v)));
    return f.v->get<std::string>();
  }
  bool bool_at(const Field& f) const {
    if (!f.v->is_boolean()) fail(f.path, fmt::format("expected true or false, found {}", type_name(*f.v)));
    return f.v->get<bool>();
  }
  int64_t int_at(const Field& f) const {
    if (!f.v->is_number_integer()) fail(f.path, fmt::format("expected an integer, found {}", type_name(*f.v)));
    return f.v->get<int64_t>();
  }
  std::vector<Field> array_at(const Field& f) const {
    if (!f.v->is_array()) fail(f.path, fmt::format("expected an array, found {}", type_name(*f.v)));
    std::vector<Field> out;
    for (size_t i = 0; i < f.v->size(); ++i) out.push_back({&(*f.v)[i], json_path_index(f.path, i)});
    return out;
  }
  std::vector<std::string> strings_at(const Field& f) const {
    std::vector<std::string> out;
    for (const auto& e : array_at(f)) out.push_back(string_at(e));
    return out;
  }
  const json& object_at(const Field& f) const {
    if (!f.v->is_object()) fail(f.path, fmt::format("expected an object, found {}", type_name(*f.v)));
    return *f.v;
  }

  // Looks a key up in the host, then in defaults.
  struct Layers {
    const json& host;
    std::string host_path;
    const json& defaults;
    std::optional<Field> get(const std::string& key) const {
      if (host.contains(key)) return Field{&host[key], json_path_member(host_path, key)};
      if (defaults.contains(key)) return Field{&defaults[key], json_path_member("defaults", key)};
      return std::nullopt;
    }
  };

  // An object-valued key whose members merge: host members win over defaults members.
  std::optional<Field> merged_member(const Layers& L, const std::string& key, const std::string& member,
                                     const std::vector<std::string>& allowed) const {
    std::optional<Field> found;
    for (auto [obj, base] : {std::pair<const json*, std::string>{&L.defaults, "defaults"}, {&L.host, L.host_path}}) {
      if (!obj->contains(key)) continue;
      Field f{&(*obj)[key], json_path_member(base, key)};
      const json& o = object_at(f);
      check_keys(o, f.path, allowed, "\"" + key + "\"");
      if (o.contains(member)) found = Field{&o[member], json_path_member(f.path, member)};
    }
    return found;
  }

  // The flags tsfleet writes itself from fleet keys: giving them again as extra flags would
  // fight the key.
  static const char* managed_flag_key(const std::string& name) {
    static const std::map<std::string, const char*> managed = {
        {"hostname", "hostname"}, {"advertise-routes", "routes"}, {"advertise-exit-node", "roles (exit-node)"},
        {"accept-routes", "accept_routes"}, {"accept-dns", "accept_dns"}, {"exit-node", "exit_node"},
        {"exit-node-allow-lan-access", "exit_node_allow_lan_access"}, {"netfilter-mode", "netfilter_mode"},
        {"ssh", "ssh"}, {"operator", "operator"}, {"login-server", "login_server"}, {"advertise-tags", "tags"}};
    auto it = managed.find(name);
    return it == managed.end() ? nullptr : it->second;
  }

  // kind: "up" or "set" (a tailscale command), or "daemon" (tailscaled: names not checked).
  void check_flag_word(const Field& f, const std::string& flag, const std::string& kind) const {
    if (flag.rfind("--", 0) != 0)
      fail(f.path, fmt::format("\"{}\" is not a flag: each element is one \"--flag=value\" word", flag));
    auto eq = flag.find('=');
    auto sp = flag.find_first_of(" \t");
    if (sp != std::string::npos && (eq == std::string::npos || sp < eq)) {
      std::string name = flag.substr(0, sp), value = flag.substr(sp + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.erase(0, 1);
      fail(f.path, fmt::format("a flag and its value in one element: each element is one argv word, so tailscale sees \"{}\" as the flag name; write \"{}={}\"",
                               flag, name, value));
    }
    std::string name = flag.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    if (name == "auth-key" || name == "authkey" || name == "client-secret" || name == "id-token")
      fail(f.path, "auth keys are never passed as flags: use \"auth_key\": {\"sops\": \"NAME\"} (or agenix, or a path) and tsfleet wires the file");
    if (kind == "daemon") {
      if (sp != std::string::npos || flag.find_first_of("'\"`$;&|<>\\") != std::string::npos)
        fail(f.path, "tailscaled flags are joined with spaces into FLAGS= without shell escaping: no spaces, quotes or shell characters");
      return;
    }
    const TailscaleFlag* tf = find_tailscale_flag(name);
    if (!tf) {
      auto guess = closest_match(name, tailscale_flag_names());
      fail(f.path, fmt::format("--{} is not a `tailscale {}` flag{}", name, kind, guess ? fmt::format(": did you mean --{}?", *guess) : ""));
    }
    if (const char* key = managed_flag_key(name))
      fail(f.path, fmt::format("--{} is written by tsfleet from \"{}\": set that key instead", name, key));
    if (kind == "up" && !tf->up) fail(f.path, fmt::format("--{} is not accepted by `tailscale up`: put it in extra_set_flags", name));
    if (kind == "set" && !tf->set) fail(f.path, fmt::format("--{} is not accepted by `tailscale set`{}", name, tf->up ? ": put it in extra_up_flags" : ""));
    if (kind == "up" && is_preference(*tf))
      fail(f.path, fmt::format("--{} is a preference: put it in extra_set_flags, which apply on every boot (extra_up_flags apply only at login)", name));
    std::optional<std::string> value;
    if (eq != std::string::npos) value = flag.substr(eq + 1);
    if (auto why = check_flag_value(*tf, value)) fail(f.path, *why);
  }

  Host load_host(const std::string& name, const json& obj, const json& defaults) {
    std::string hpath = json_path_member("hosts", name);
    if (!is_valid_hostname(name))
      fail(hpath, fmt::format("\"{}\" is not a valid host name: use 1-63 lowercase letters, digits and '-' (not first or last), e.g. \"{}\"",
                              name, suggest_hostname(name)), true);
    if (!obj.is_object()) fail(hpath, "a host must be an object, e.g. { \"roles\": [\"client\"] }");
    check_keys(obj, hpath, host_keys(), "host \"" + name + "\"");
    Layers L{obj, hpath, defaults};
    Host h;
    h.name = name;
    if (auto f = L.get("description")) h.description = string_at(*f);
    if (auto f = L.get("hostname")) {
      h.hostname = string_at(*f);
      if (!is_valid_hostname(h.hostname))
        fail(f->path, fmt::format("\"{}\" is not a valid tailnet hostname: use 1-63 lowercase letters, digits and '-', e.g. \"{}\"",
                                  h.hostname, suggest_hostname(h.hostname)));
    }

    auto roles = L.get("roles");
    if (!roles) fail(hpath, "missing \"roles\": add \"roles\": [\"client\"] (or \"subnet-router\", \"exit-node\")", true);
    auto role_items = array_at(*roles);
    if (role_items.empty()) fail(roles->path, "\"roles\" is empty: list at least one of \"client\", \"subnet-router\", \"exit-node\"");
    for (const auto& r : role_items) {
      std::string role = string_at(r);
      if (role == "client") h.roles.client = true;
      else if (role == "subnet-router") h.roles.subnet_router = true;
      else if (role == "exit-node") h.roles.exit_node = true;
      else {
        auto guess = closest_match(role, kRoleNames);
        if (role == "router" || role == "server" || role == "both")
          fail(r.path, fmt::format("unknown role \"{}\": a router is [\"subnet-router\", \"exit-node\"] (or either one)", role));
        fail(r.path, guess ? fmt::format("unknown role \"{}\": did you mean \"{}\"?", role, *guess)
                           : fmt::format("unknown role \"{}\": the roles are \"client\", \"subnet-router\" and \"exit-node\"", role));
      }
    }

    if (auto f = L.get("routes")) {
      for (const auto& e : array_at(*f)) {
        std::string s = string_at(e), why;
        auto c = parse_cidr(s, &why);
        if (!c) fail(e.path, fmt::format("\"{}\" is not a CIDR route: {}", s, why));
        if (c->host_bits_set())
          fail(e.path, fmt::format("\"{}\" has host bits set (tailscale refuses it): write \"{}\"", s, c->masked().to_string()));
        if (c->is_default_route())
          fail(e.path, fmt::format("\"{}\" is a default route: to offer all traffic, add \"exit-node\" to roles instead", s));
        for (const auto& prev : h.routes)
          if (prev == *c) fail(e.path, fmt::format("route \"{}\" is listed twice: remove one", s));
        h.routes.push_back(*c);
      }
    }
    if (h.roles.subnet_router && h.routes.empty())
      fail(roles->path, "a subnet-router advertises routes: add \"routes\": [\"192.168.1.0/24\"] or drop the role");
    if (!h.roles.subnet_router && !h.routes.empty())
      fail(L.get("routes")->path, "routes are advertised only by a subnet router: add \"subnet-router\" to roles");

    if (auto f = L.get("exit_node")) {
      if (!f->v->is_null()) h.exit_node = string_at(*f);
      exit_node_paths_[name] = f->path;
    }
    if (auto f = L.get("exit_node_allow_lan_access")) h.exit_node_allow_lan_access = bool_at(*f);
    if (h.exit_node_allow_lan_access && !h.exit_node)
      fail(L.get("exit_node_allow_lan_access")->path, "exit_node_allow_lan_access needs \"exit_node\" to be set");
    if (auto f = L.get("accept_routes")) h.accept_routes = bool_at(*f);
    if (auto f = L.get("accept_dns")) h.accept_dns = bool_at(*f);

    if (auto f = L.get("tags")) {
      for (const auto& e : array_at(*f)) {
        std::string t = string_at(e);
        if (!is_valid_tag(t)) {
          if (t.rfind("tag:", 0) != 0 && is_valid_tag("tag:" + t))
            fail(e.path, fmt::format("\"{}\" is not a valid tag: ACL tags start with \"tag:\", write \"tag:{}\"", t, t));
          fail(e.path, fmt::format("\"{}\" is not a valid tag: write \"tag:name\" (a letter, then letters, digits or '-')", t));
        }
        if (std::find(h.tags.begin(), h.tags.end(), t) == h.tags.end()) h.tags.push_back(t);
      }
    }

    if (auto f = L.get("lan_interface")) {
      h.lan_interface = string_at(*f);
      check_interface_name(*f, *h.lan_interface);
      if (!h.roles.offers_routing())
        fail(f->path, "lan_interface is the NAT uplink of a subnet router or exit node: add such a role or remove it");
    }

    if (auto f = L.get("auth_key")) h.auth_key = load_auth_key(*f);
    if (auto f = L.get("login_server")) {
      h.login_server = string_at(*f);
      if (h.login_server->rfind("https://", 0) != 0 && h.login_server->rfind("http://", 0) != 0)
        fail(f->path, "login_server must be a URL, e.g. \"https://headscale.example.com\"");
      check_plain(*f, *h.login_server);
    }
    if (auto f = L.get("dns")) h.dns = load_dns(*f);

    if (auto f = merged_member(L, "firewall", "open_firewall", kFirewallKeys)) h.firewall.open_firewall = bool_at(*f);
    if (auto f = merged_member(L, "firewall", "trusted_interfaces", kFirewallKeys)) {
      h.firewall.trusted_interfaces_set = true;
      for (const auto& e : array_at(*f)) {
        std::string s = string_at(e);
        check_interface_name(e, s);
        h.firewall.trusted_interfaces.push_back(s);
      }
    }

    if (auto f = L.get("port")) {
      auto p = int_at(*f);
      if (p < 0 || p > 65535) fail(f->path, fmt::format("port {} is out of range: use 1-65535, or 0 to pick one automatically", p));
      h.port = static_cast<int>(p);
    }
    if (auto f = L.get("interface_name")) {
      h.interface_name = string_at(*f);
      check_interface_name(*f, h.interface_name);
    }
    if (auto f = L.get("userspace_networking")) h.userspace_networking = bool_at(*f);
    if (h.userspace_networking && h.exit_node)
      fail(exit_node_paths_[name], "a host in userspace-networking mode has no kernel routes, so it cannot send its traffic through an exit node: remove \"exit_node\" or \"userspace_networking\"");
    if (auto f = L.get("netfilter_mode")) {
      h.netfilter_mode = string_at(*f);
      if (h.netfilter_mode != "on" && h.netfilter_mode != "nodivert" && h.netfilter_mode != "off")
        fail(f->path, fmt::format("netfilter_mode \"{}\" is not one of \"on\", \"nodivert\", \"off\"", h.netfilter_mode));
    }
    if (auto f = L.get("nftables")) h.nftables = bool_at(*f);
    if (auto f = L.get("no_logs")) h.no_logs = bool_at(*f);
    if (auto f = L.get("disable_taildrop")) h.disable_taildrop = bool_at(*f);
    if (auto f = L.get("permit_cert_uid")) {
      h.permit_cert_uid = string_at(*f);
      if (h.permit_cert_uid->empty()) fail(f->path, "permit_cert_uid must be a user name or uid, e.g. \"caddy\"");
      check_plain(*f, *h.permit_cert_uid);
    }
    if (auto f = L.get("ssh")) h.ssh = bool_at(*f);
    if (auto f = L.get("operator")) {
      h.operator_user = string_at(*f);
      if (h.operator_user->empty() || h.operator_user->find_first_of(" \t\n,") != std::string::npos)
        fail(f->path, "operator must be a user name, e.g. \"alice\"");
    }
    if (auto f = merged_member(L, "health_check", "enable", kHealthKeys)) h.health_check.enable = bool_at(*f);
    if (auto f = merged_member(L, "health_check", "restart", kHealthKeys)) h.health_check.restart = bool_at(*f);
    if (auto f = merged_member(L, "health_check", "interval", kHealthKeys)) {
      h.health_check.interval = string_at(*f);
      if (!is_time_span(h.health_check.interval))
        fail(f->path, fmt::format("\"{}\" is not a systemd time span: write e.g. \"5min\", \"30s\" or \"1h\"", h.health_check.interval));
    }
    if (auto f = L.get("network_tuning")) h.network_tuning = bool_at(*f);

    auto flags = [&](const char* key, const char* kind, std::vector<std::string>& out) {
      if (auto f = L.get(key)) {
        std::map<std::string, std::string> seen;
        for (const auto& e : array_at(*f)) {
          std::string s = string_at(e);
          check_plain(e, s);
          check_flag_word(e, s, kind);
          std::string name = s.substr(0, s.find('='));
          if (seen.count(name)) fail(e.path, fmt::format("{} is given twice (\"{}\" and \"{}\"): keep one", name, seen[name], s));
          seen[name] = s;
          out.push_back(s);
        }
      }
    };
    flags("extra_up_flags", "up", h.extra_up_flags);
    flags("extra_set_flags", "set", h.extra_set_flags);
    flags("extra_daemon_flags", "daemon", h.extra_daemon_flags);
    return h;
  }

  static bool is_time_span(const std::string& s) {
    if (s.empty()) return false;
    size_t i = 0;
    while (i < s.size()) {
      size_t d = i;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
      if (i == d) return false;
      size_t u = i;
      while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
      std::string unit = s.substr(u, i - u);
      static const std::set<std::string> units = {"", "us", "ms", "s", "sec", "second", "seconds", "m", "min", "minute", "minutes",
                                                  "h", "hr", "hour", "hours", "d", "day", "days", "w", "week", "weeks"};
      if (!units.count(unit)) return false;
      while (i < s.size() && s[i] == ' ') ++i;
    }
    return true;
  }

  static std::string suggest_hostname(const std::string& s) {
    std::string out;
    for (char c : s) {
      unsigned char u = static_cast<unsigned char>(c);
      if (std::isalnum(u)) out += static_cast<char>(std::tolower(u));
      else if (!out.empty() && out.back() != '-') out += '-';
    }
    while (!out.empty() && out.back() == '-') out.pop_back();
    if (out.size() > 63) out.resize(63);
    return out.empty() ? "host1" : out;
  }

  // Strings that end up in generated Nix and in argv may not hold control characters.
  void check_plain(const Field& f, const std::string& s) const {
    for (char c : s)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) fail(f.path, "control characters are not allowed here");
  }

  void check_interface_name(const Field& f, const std::string& s) const {
    bool ok = !s.empty() && s.size() <= 15 && std::all_of(s.begin(), s.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '@';
    });
    if (s == "userspace-networking")
      fail(f.path, "write \"userspace_networking\": true instead of naming the interface \"userspace-networking\"");
    if (!ok) fail(f.path, fmt::format("\"{}\" is not a Linux interface name (1-15 letters, digits, '-', '_', '.')", s));
  }

  void check_relative_file(const Field& f, const std::string& s) const {
    bool ok = !s.empty() && s[0] != '/' && std::all_of(s.begin(), s.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '/' || c == '+';
    });
    if (!ok || s.find("//") != std::string::npos || s.back() == '/')
      fail(f.path, fmt::format("\"{}\" must be a path relative to the generated module (letters, digits, '-', '_', '.', '+', '/'), e.g. \"../../secrets/tailscale.yaml\"", s));
  }

  AuthKeySource load_auth_key(const Field& f) {
    if (f.v->is_string())
      fail(f.path, "an auth key is never written inline: store it in a secret and write {\"sops\": \"NAME\"}, {\"agenix\": \"NAME\"} or {\"path\": \"/run/keys/tailscale\"} (the value is not shown here)");
    AuthKeySource a;
    if (f.v->is_null()) return a;
    const json& o = object_at(f);
    check_keys(o, f.path, kAuthKeyKeys, "\"auth_key\"");
    int kinds = int(o.contains("sops")) + int(o.contains("agenix")) + int(o.contains("path"));
    if (kinds != 1) fail(f.path, "auth_key takes exactly one of \"sops\", \"agenix\" or \"path\"");
    auto member = [&](const char* k) { return Field{&o[k], json_path_member(f.path, k)}; };
    auto secret_name = [&](const Field& m) {
      std::string n = string_at(m);
      bool ok = !n.empty() && std::all_of(n.begin(), n.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '/';
      });
      if (!ok) fail(m.path, fmt::format("\"{}\" is not a secret name: use letters, digits, '-', '_', '.', '/'", n));
      return n;
    };
    if (o.contains("sops")) {
      a.kind = AuthKeySource::Kind::sops;
      a.name = secret_name(member("sops"));
      if (o.contains("age_file")) fail(member("age_file").path, "age_file goes with \"agenix\"; for sops write \"sops_file\"");
      if (o.contains("sops_file")) {
        a.file = string_at(member("sops_file"));
        check_relative_file(member("sops_file"), *a.file);
      }
    } else if (o.contains("agenix")) {
      a.kind = AuthKeySource::Kind::agenix;
      a.name = secret_name(member("agenix"));
      if (o.contains("sops_file")) fail(member("sops_file").path, "sops_file goes with \"sops\"; for agenix write \"age_file\"");
      if (o.contains("age_file")) {
        a.file = string_at(member("age_file"));
        check_relative_file(member("age_file"), *a.file);
      }
    } else {
      a.kind = AuthKeySource::Kind::path;
      Field m = member("path");
      a.path = string_at(m);
      check_plain(m, a.path);
      if (a.path.empty() || a.path[0] != '/')
        fail(m.path, fmt::format("\"{}\" is not an absolute path: write e.g. \"/run/keys/tailscale-authkey\"", a.path));
      if (a.path.rfind("/nix/store", 0) == 0)
        fail(m.path, "an auth key in /nix/store is world-readable: keep it outside the store (e.g. /run/keys/...)");
      if (o.contains("sops_file") || o.contains("age_file")) fail(f.path, "sops_file/age_file go with \"sops\"/\"agenix\", not \"path\"");
    }
    if (o.contains("parameters")) {
      Field pf = member("parameters");
      const json& p = object_at(pf);
      check_keys(p, pf.path, kAuthParamKeys, "\"auth_key.parameters\"");
      if (p.contains("ephemeral")) a.ephemeral = bool_at({&p["ephemeral"], json_path_member(pf.path, "ephemeral")});
      if (p.contains("preauthorized")) a.preauthorized = bool_at({&p["preauthorized"], json_path_member(pf.path, "preauthorized")});
      if (p.contains("base_url")) {
        Field b{&p["base_url"], json_path_member(pf.path, "base_url")};
        a.base_url = string_at(b);
        check_plain(b, *a.base_url);
        if (a.base_url->rfind("https://", 0) != 0 && a.base_url->rfind("http://", 0) != 0)
          fail(b.path, "base_url must be a URL, e.g. \"https://api.tailscale.com\"");
      }
    }
    return a;
  }

  DnsSettings load_dns(const Field& f) {
    DnsSettings d;
    const json& o = object_at(f);
    check_keys(o, f.path, kDnsKeys, "\"dns\"");
    auto member = [&](const char* k) { return Field{&o[k], json_path_member(f.path, k)}; };
    if (o.contains("mode")) {
      std::string m = string_at(member("mode"));
      if (m == "tailscale") d.mode = DnsSettings::Mode::tailscale;
      else if (m == "resolved") d.mode = DnsSettings::Mode::resolved;
      else fail(member("mode").path, fmt::format("dns mode \"{}\" is not \"tailscale\" or \"resolved\"", m));
    }
    bool resolved = d.mode == DnsSettings::Mode::resolved;
    auto only_resolved = [&](const char* k) {
      if (o.contains(k) && !resolved) fail(member(k).path, fmt::format("\"{}\" applies to systemd-resolved: set \"mode\": \"resolved\"", k));
    };
    for (const char* k : {"upstreams", "fallback", "dnssec", "dns_over_tls"}) only_resolved(k);
    auto servers = [&](const char* k, std::vector<std::string>& out) {
      if (!o.contains(k)) return;
      for (const auto& e : array_at(member(k))) {
        std::string s = string_at(e);
        bool ok = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == ':' || c == '#' || c == '-' || c == '%' || c == '[' || c == ']';
        });
        if (!ok) fail(e.path, fmt::format("\"{}\" is not a DNS server: write an address, optionally with #name for DNS-over-TLS, e.g. \"1.1.1.1#cloudflare-dns.com\"", s));
        out.push_back(s);
      }
    };
    servers("upstreams", d.upstreams);
    servers("fallback", d.fallback);
    auto tri = [&](const char* k, std::string& out, std::initializer_list<const char*> allowed) {
      if (!o.contains(k)) return;
      Field m = member(k);
      if (m.v->is_boolean()) out = m.v->get<bool>() ? "true" : "false";
      else out = string_at(m);
      for (const char* a : allowed)
        if (out == a) return;
      std::string list;
      for (const char* a : allowed) list += (list.empty() ? "\"" : ", \"") + std::string(a) + "\"";
      fail(m.path, fmt::format("\"{}\" is not one of {}", out, list));
    };
    tri("dnssec", d.dnssec, {"true", "allow-downgrade", "false"});
    tri("dns_over_tls", d.dns_over_tls, {"true", "opportunistic", "false"});
    return d;
  }

  void cross_check(const Fleet& fleet) const {
    std::map<std::string, std::string> hostnames;
    for (const auto& h : fleet.hosts) {
      std::string hn = h.hostname.empty() ? h.name : h.hostname;
      std::string p = json_path_member("hosts", h.name);
      if (auto it = hostnames.find(hn); it != hostnames.end())
        fail(h.hostname.empty() ? p : json_path_member(p, "hostname"),
             fmt::format("hosts \"{}\" and \"{}\" would both join the tailnet as \"{}\": give one a different \"hostname\"", it->second, h.name, hn),
             h.hostname.empty());
      hostnames[hn] = h.name;
      if (!h.exit_node || *h.exit_node == "auto:any") continue;
      std::string path = exit_node_paths_.at(h.name);
      const Host* target = fleet.find(*h.exit_node);
      if (!target) {
        std::vector<std::string> offering;
        for (const auto& o : fleet.hosts)
          if (o.roles.exit_node) offering.push_back(o.name);
        auto guess = closest_match(*h.exit_node, offering);
        std::string list;
        for (const auto& o : offering) list += (list.empty() ? "\"" : ", \"") + o + "\"";
        fail(path, fmt::format("exit node \"{}\" is not a host of this fleet{}", *h.exit_node,
                               guess ? fmt::format(": did you mean \"{}\"?", *guess)
                                     : offering.empty() ? " (no host has the exit-node role)" : ": hosts offering one are " + list));
      }
      if (target == &h) fail(path, "a host cannot use itself as its exit node");
      if (!target->roles.exit_node)
        fail(path, fmt::format("\"{}\" offers no exit node: add \"exit-node\" to its roles, or pick a host that has it", target->name));
    }
  }

  std::map<std::string, std::string> exit_node_paths_;
};

}  // namespace

Fleet load_fleet(std::string_view text, std::string_view filename) {
  try {
    JsonDocument doc = parse_json_document(text, filename);
    return Loader(doc).run();
  } catch (const Error& e) {
    // Messages quote keys and paths from the file: whatever looks like a key is masked here,
    // at the source, not only on the way out.
    throw Error(e.category(), redact(e.what()));
  }
}

Fleet load_fleet_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCategory::io, fmt::format("{}: cannot read the fleet file: {}", path, std::strerror(errno)));
  std::ostringstream ss;
  ss << in.rdbuf();
  return load_fleet(ss.str(), path);
}

Fleet load_default_fleet() { return load_fleet(embedded_default_fleet_json(), kEmbeddedFleetName); }

}  // namespace tsfleet
