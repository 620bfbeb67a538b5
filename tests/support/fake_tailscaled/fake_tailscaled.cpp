// fake-tailscaled: a real HTTP/1.1 server on a Unix socket that serves the tailscaled LocalAPI
// from a scenario file, with fault injection. See docs/testing.md for the scenario format and the
// /fake/v0/ control endpoints.
//
// It is hand-written on raw sockets (not cpp-httplib's server) because the fault modes need
// control of the connection itself: resets (SO_LINGER 0), bodies shorter than Content-Length,
// dribbled bytes, hangs that last until the client gives up, and the socket disappearing.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using json = nlohmann::ordered_json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const char* const kVersion = "1.102.3-t1a2b3c4d5-g6e7f8a9b0";

// ---------------------------------------------------------------------------------------------
// Daemon state

int state_to_int(const std::string& s) {
  static const std::map<std::string, int> m{
      {"NoState", 0}, {"InUseOtherUser", 1}, {"NeedsLogin", 2}, {"NeedsMachineAuth", 3},
      {"Stopped", 4}, {"Starting", 5},       {"Running", 6}};
  auto it = m.find(s);
  return it == m.end() ? 0 : it->second;
}

json default_prefs() {
  return json::parse(R"({
    "ControlURL": "https://controlplane.tailscale.com",
    "RouteAll": false, "ExitNodeID": "", "ExitNodeIP": "", "InternalExitNodePrior": "",
    "ExitNodeAllowLANAccess": false, "CorpDNS": true, "RunSSH": false, "RunWebClient": false,
    "WantRunning": false, "LoggedOut": true, "ShieldsUp": false, "AdvertiseTags": null,
    "Hostname": "", "NotepadURLs": false, "AdvertiseRoutes": null, "AdvertiseServices": null,
    "Sync": null, "NoSNAT": false, "NoStatefulFiltering": false, "NetfilterMode": 2,
    "OperatorUser": "", "AutoUpdate": {"Check": true, "Apply": false},
    "AppConnector": {"Advertise": false}, "PostureChecking": false, "NetfilterKind": "",
    "DriveShares": null, "RelayServerPort": null, "RelayServerStaticEndpoints": null,
    "AllowSingleHosts": true, "Config": null})");
}

json default_derpmap() {
  return json::parse(R"({"Regions": {
    "1": {"RegionID": 1, "RegionCode": "nyc", "RegionName": "New York City",
          "Nodes": [{"Name": "1f", "RegionID": 1, "HostName": "derp1f.tailscale.com", "IPv4": "199.38.181.104", "IPv6": "2607:f740:f::bc"}]},
    "4": {"RegionID": 4, "RegionCode": "fra", "RegionName": "Frankfurt",
          "Nodes": [{"Name": "4c", "RegionID": 4, "HostName": "derp4c.tailscale.com", "IPv4": "134.122.77.138", "IPv6": "2a03:b0c0:3:d0::1501:6001"}]}}})");
}

struct Watcher {
  std::deque<std::string> queue;  // Notify lines waiting to be sent
  std::uint64_t mask = 0;
};

struct Daemon {
  std::mutex mu;
  std::condition_variable cv;
  json scenario;
  std::string state = "NoState";
  std::string auth_url;
  json status_template;  // scenario "status"
  json prefs;
  json faults = json::object();  // endpoint -> fault
  json requests = json::array();
  std::string session_id = "fake-session-1";
  int generation = 0;  // bumped on every restart: connections of older generations are dropped
  bool socket_present = true;
  bool stopping = false;
  std::set<std::shared_ptr<Watcher>> watchers;
  std::set<int> open_fds;
  std::string socket_path;
  int listen_fd = -1;
  std::int64_t engine_bytes = 0;
};

Daemon g;

std::string dump_line(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

// Call with g.mu held.
void broadcast_locked(const json& notify) {
  std::string line = dump_line(notify);
  for (const auto& w : g.watchers) w->queue.push_back(line);
  g.cv.notify_all();
}

void set_state_locked(const std::string& s) {
  if (s == g.state) return;
  g.state = s;
  json n = {{"State", state_to_int(s)}};
  broadcast_locked(n);
}

bool logged_in_state(const std::string& s) {
  return s == "Running" || s == "Starting" || s == "Stopped";
}

// Marks the peer used as exit node (Prefs.ExitNodeIP/ID) in the status template.
void apply_exit_node_locked() {
  std::string ip = g.prefs.value("ExitNodeIP", "");
  std::string id = g.prefs.value("ExitNodeID", "");
  if (!g.status_template.contains("Peer") || !g.status_template["Peer"].is_object()) return;
  json exit_status;  // assigned after the loop: inserting keys would invalidate `peers`
  auto& peers = g.status_template["Peer"];
  for (auto& [key, p] : peers.items()) {
    bool uses = false;
    json ips = p.contains("TailscaleIPs") && p["TailscaleIPs"].is_array() ? p["TailscaleIPs"]
                                                                          : json::array();
    if (!id.empty() && p.value("ID", "") == id) uses = true;
    for (const auto& a : ips)
      if (!ip.empty() && a.is_string() && a.get<std::string>() == ip) uses = true;
    p["ExitNode"] = uses;
    if (!uses) continue;
    exit_status = {{"ID", p.value("ID", "")},
                   {"Online", p.value("Online", false)},
                   {"TailscaleIPs", json::array()}};
    for (const auto& a : ips)
      if (a.is_string())
        exit_status["TailscaleIPs"].push_back(
            a.get<std::string>() +
            (a.get<std::string>().find(':') == std::string::npos ? "/32" : "/128"));
  }
  if (exit_status.is_null())
    g.status_template.erase("ExitNodeStatus");
  else
    g.status_template["ExitNodeStatus"] = exit_status;
}

json status_json_locked(bool with_peers) {
  json s = g.status_template.is_object() ? g.status_template : json::object();
  s["Version"] = g.scenario.value("version", kVersion);
  if (!s.contains("TUN")) s["TUN"] = true;
  s["BackendState"] = g.state;
  s["AuthURL"] = g.auth_url;
  bool logged_in = logged_in_state(g.state);
  if (!logged_in) {
    s["TailscaleIPs"] = nullptr;
    s["Peer"] = nullptr;
    s.erase("ExitNodeStatus");
    if (s.contains("Self") && s["Self"].is_object()) {
      s["Self"]["Online"] = false;
      s["Self"]["TailscaleIPs"] = nullptr;
    }
  } else if (g.state == "Stopped" && s.contains("Self") && s["Self"].is_object()) {
    s["Self"]["Online"] = false;
  }
  if (!with_peers) s["Peer"] = json::object();
  return s;
}

// ---------------------------------------------------------------------------------------------
// HTTP plumbing

struct Request {
  std::string method, target, path, query_string, body;
  std::map<std::string, std::string> headers;  // lower-case names
  std::map<std::string, std::string> query;
  std::string endpoint;  // after /localapi/v0/ (or /fake/v0/)
};

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string url_decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else if (s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Reads one request. False on EOF/garbage.
bool read_request(int fd, Request& r) {
  std::string buf;
  char tmp[8192];
  std::size_t end;
  while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || buf.size() > 1 << 20) return false;
    buf.append(tmp, static_cast<std::size_t>(n));
  }
  std::istringstream head(buf.substr(0, end));
  std::string line;
  std::getline(head, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  std::istringstream rl(line);
  std::string version;
  rl >> r.method >> r.target >> version;
  if (r.method.empty() || r.target.empty()) return false;
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto c = line.find(':');
    if (c == std::string::npos) continue;
    std::string v = line.substr(c + 1);
    v.erase(0, v.find_first_not_of(" \t"));
    r.headers[lower(line.substr(0, c))] = v;
  }
  std::string rest = buf.substr(end + 4);
  std::size_t len = 0;
  if (auto it = r.headers.find("content-length"); it != r.headers.end())
    len = std::stoul(it->second);
  while (rest.size() < len) {
    ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    rest.append(tmp, static_cast<std::size_t>(n));
  }
  r.body = rest.substr(0, len);
  auto q = r.target.find('?');
  r.path = r.target.substr(0, q);
  if (q != std::string::npos) {
    r.query_string = r.target.substr(q + 1);
    std::istringstream qs(r.query_string);
    std::string kv;
    while (std::getline(qs, kv, '&')) {
      auto eq = kv.find('=');
      r.query[url_decode(kv.substr(0, eq))] =
          eq == std::string::npos ? "" : url_decode(kv.substr(eq + 1));
    }
  }
  return true;
}

const char* reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

struct Reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

Reply text_error(int status, const std::string& msg) {
  return Reply{status, "text/plain; charset=utf-8", msg + "\n"};
}
Reply json_reply(const json& j, int status = 200) {
  // tailscaled indents LocalAPI JSON with tabs.
  return Reply{status, "application/json",
               j.dump(1, '\t', false, json::error_handler_t::replace) + "\n"};
}

std::string head_of(const Reply& r, std::optional<std::size_t> content_length) {
  std::string h = "HTTP/1.1 " + std::to_string(r.status) + " " + reason(r.status) + "\r\n";
  h += "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'; script-src 'none'; "
       "script-src-elem 'none'; script-src-attr 'none'\r\n";
  h += "Tailscale-Cap: 145\r\nTailscale-Version: " + std::string(kVersion) + "\r\n";
  h += "X-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\n";
  if (r.status != 204) h += "Content-Type: " + r.content_type + "\r\n";
  if (content_length)
    h += "Content-Length: " + std::to_string(*content_length) + "\r\n";
  else if (r.status != 204)
    h += "Transfer-Encoding: chunked\r\n";
  h += "Connection: close\r\n\r\n";
  return h;
}

// Like Go's net/http: small bodies get a Content-Length, larger ones are chunked (4 KiB chunks).
void send_reply(int fd, const Reply& r) {
  if (r.status == 204 || r.body.size() <= 4096) {
    send_all(fd, head_of(r, r.status == 204 ? std::optional<std::size_t>() : r.body.size()) +
                     (r.status == 204 ? std::string() : r.body));
    return;
  }
  std::string out = head_of(r, std::nullopt);
  for (std::size_t i = 0; i < r.body.size(); i += 4096) {
    std::size_t n = std::min<std::size_t>(4096, r.body.size() - i);
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", n);
    out += size;
    out.append(r.body, i, n);
    out += "\r\n";
  }
  out += "0\r\n\r\n";
  send_all(fd, out);
}

// Waits until the client closes, the daemon restarts or stops, or `until`.
void hold(int fd, int gen, std::optional<Clock::time_point> until) {
  for (;;) {
    {
      std::lock_guard lk(g.mu);
      if (g.stopping || g.generation != gen) return;
    }
    if (until && Clock::now() >= *until) return;
    pollfd p{fd, POLLIN, 0};
    int n = ::poll(&p, 1, 50);
    if (n > 0) {
      char c;
      ssize_t r = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
      if (r <= 0) return;  // client went away
      // Extra bytes from the client: ignore them.
      char buf[1024];
      [[maybe_unused]] auto x = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    }
  }
}

void reset_connection(int fd) {
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

// ---------------------------------------------------------------------------------------------
// Socket management

int listen_on(const std::string& path) {
  ::unlink(path.c_str());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    std::cerr << "fake-tailscaled: socket path too long: " << path << "\n";
    std::exit(2);
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, SOMAXCONN) != 0) {
    std::cerr << "fake-tailscaled: cannot listen on " << path << ": " << std::strerror(errno)
              << "\n";
    std::exit(2);
  }
  ::chmod(path.c_str(), 0666);
  return fd;
}

void serve_connection(int fd, bool control_only);

// The loop owns `fd`: it closes it when its generation ends (restart, socket taken away).
void accept_loop(int fd, bool control_only, int gen) {
  for (;;) {
    {
      std::lock_guard lk(g.mu);
      if (g.stopping || (!control_only && (g.generation != gen || !g.socket_present))) break;
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int c = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    {
      std::lock_guard lk(g.mu);
      if (!control_only) g.open_fds.insert(c);
    }
    std::thread([c, control_only] {
      serve_connection(c, control_only);
      std::lock_guard lk(g.mu);
      g.open_fds.erase(c);
      ::close(c);
    }).detach();
  }
  ::close(fd);  // connections still queued in the backlog are reset, as when a daemon dies
}

// Brings the main socket up (present=true) or takes it away, synchronously: when this returns
// the socket file exists and listens, or is gone and its accept loop has ended (so its fd number
// cannot be closed late under a new listener). Call WITHOUT g.mu held.
std::mutex g_socket_mu;       // serialises socket changes
std::thread g_accept_thread;  // the main socket's accept loop

void set_socket_present(bool present) {
  std::lock_guard socket_lock(g_socket_mu);
  std::unique_lock lk(g.mu);
  if (!present) {
    if (!g.socket_present) return;
    g.socket_present = false;
    ++g.generation;
    g.listen_fd = -1;
    // Unlink first: a client that sees its connection drop must not find the old socket.
    ::unlink(g.socket_path.c_str());  // new connects now fail at once with ENOENT
    for (int c : g.open_fds) ::shutdown(c, SHUT_RDWR);
    g.cv.notify_all();
    lk.unlock();
    if (g_accept_thread.joinable()) g_accept_thread.join();
    return;
  }
  if (g.socket_present) return;
  g.socket_present = true;
  ++g.generation;
  int gen = g.generation;
  g.listen_fd = listen_on(g.socket_path);
  int fd = g.listen_fd;
  lk.unlock();
  if (g_accept_thread.joinable()) g_accept_thread.join();
  g_accept_thread = std::thread([fd, gen] { accept_loop(fd, false, gen); });
}

void restart_later(int down_ms) {
  std::thread([down_ms] {
    std::this_thread::sleep_for(std::chrono::milliseconds(down_ms));
    set_socket_present(true);
  }).detach();
}

// ---------------------------------------------------------------------------------------------
// LocalAPI handlers (called with g.mu held)

bool is_write_endpoint(const Request& r) {
  static const std::set<std::string> write{
      "check-prefs", "start",   "login-interactive", "logout",
      "reset-auth",  "metrics", "set-expiry-sooner", "shutdown"};
  if (r.endpoint == "prefs") return r.method == "PATCH";
  return write.count(r.endpoint) > 0;
}

std::optional<std::string> validate_prefs(const json& p) {
  if (p.contains("AdvertiseRoutes") && p["AdvertiseRoutes"].is_array()) {
    for (const auto& r : p["AdvertiseRoutes"]) {
      if (!r.is_string() || r.get<std::string>().find('/') == std::string::npos)
        return "invalid prefix " + r.dump() + ": no '/'";
    }
  }
  if (p.contains("NetfilterMode") && p["NetfilterMode"].is_number_integer()) {
    int m = p["NetfilterMode"].get<int>();
    if (m < 0 || m > 2) return "invalid NetfilterMode " + std::to_string(m);
  }
  return std::nullopt;
}

void after_prefs_change_locked(const json& old) {
  apply_exit_node_locked();
  broadcast_locked(json{{"Prefs", g.prefs}});
  bool want = g.prefs.value("WantRunning", false);
  if (want != old.value("WantRunning", false)) {
    if (want && g.state == "Stopped") {
      set_state_locked("Starting");
      set_state_locked("Running");
    } else if (!want && (g.state == "Running" || g.state == "Starting")) {
      set_state_locked("Stopped");
    }
  }
}

json peer_by_ip_locked(const std::string& ip) {
  const auto& peers = g.status_template.contains("Peer") ? g.status_template["Peer"] : json();
  if (!peers.is_object()) return nullptr;
  for (const auto& [k, p] : peers.items()) {
    if (!p.contains("TailscaleIPs") || !p["TailscaleIPs"].is_array()) continue;
    for (const auto& a : p["TailscaleIPs"])
      if (a.is_string() && a.get<std::string>() == ip) return p;
  }
  return nullptr;
}

bool self_has_ip_locked(const std::string& ip) {
  const json& s = g.status_template;
  if (s.contains("TailscaleIPs") && s["TailscaleIPs"].is_array())
    for (const auto& a : s["TailscaleIPs"])
      if (a.is_string() && a.get<std::string>() == ip) return true;
  return false;
}

std::int64_t derp_region_id_locked(const std::string& code) {
  json dm = g.scenario.contains("derpmap") ? g.scenario["derpmap"] : default_derpmap();
  if (dm.contains("Regions") && dm["Regions"].is_object())
    for (const auto& [k, r] : dm["Regions"].items())
      if (r.value("RegionCode", "") == code) return r.value("RegionID", 0);
  return 0;
}

// An outcome that is not a plain reply.
enum class Special { none, hang };

Reply handle_ping_locked(const Request& r, Special& special) {
  if (r.method != "POST") return text_error(405, "want POST");
  auto ip_it = r.query.find("ip");
  if (ip_it == r.query.end() || ip_it->second.empty())
    return text_error(400, "missing 'ip' parameter");
  auto type_it = r.query.find("type");
  if (type_it == r.query.end() || type_it->second.empty())
    return text_error(400, "missing 'type' parameter");
  static const std::set<std::string> types{"disco", "TSMP", "ICMP", "peerapi"};
  if (!types.count(type_it->second)) return text_error(400, "invalid 'type' parameter");
  const std::string& ip = ip_it->second;
  json res = {{"IP", ip},        {"NodeIP", ""},        {"NodeName", ""},
              {"Err", ""},       {"LatencySeconds", 0}, {"Endpoint", ""},
              {"PeerRelay", ""}, {"DERPRegionID", 0},   {"DERPRegionCode", ""}};
  if (g.scenario.contains("ping") && g.scenario["ping"].contains(ip)) {
    const json& p = g.scenario["ping"][ip];
    if (p.value("hang", false)) {
      special = Special::hang;
      return {};
    }
    for (const auto& [k, v] : p.items()) res[k] = v;
    return json_reply(res);
  }
  if (self_has_ip_locked(ip)) {
    res["Err"] = ip + " is local Tailscale IP";
    res["IsLocalIP"] = true;
    return json_reply(res);
  }
  json peer = g.state == "Running" ? peer_by_ip_locked(ip) : json();
  if (peer.is_null()) {
    res["Err"] = "no matching peer";
    return json_reply(res);
  }
  if (!peer.value("Online", false)) {  // no pong ever comes: the real daemon blocks
    special = Special::hang;
    return {};
  }
  std::string dns = peer.value("DNSName", "");
  res["NodeIP"] = ip;
  res["NodeName"] = dns.substr(0, dns.find('.'));
  if (type_it->second == "TSMP") {
    res["LatencySeconds"] = 0.011;
    res["PeerAPIPort"] = 41641;
  } else if (!peer.value("PeerRelay", "").empty()) {
    res["PeerRelay"] = peer.value("PeerRelay", "");
    res["LatencySeconds"] = 0.009;
  } else if (!peer.value("CurAddr", "").empty()) {
    res["Endpoint"] = peer.value("CurAddr", "");
    res["LatencySeconds"] = 0.005;
  } else {
    std::string code = peer.value("Relay", "");
    res["DERPRegionCode"] = code;
    res["DERPRegionID"] = derp_region_id_locked(code);
    res["LatencySeconds"] = 0.023;
  }
  return json_reply(res);
}

Reply handle_whois_locked(const Request& r) {
  auto it = r.query.find("addr");
  if (it == r.query.end() || it->second.empty()) return text_error(400, "missing 'addr' parameter");
  std::string addr = it->second;
  std::string ip = addr;
  if (addr.rfind("nodekey:", 0) != 0) {
    if (!ip.empty() && ip.front() == '[')
      ip = ip.substr(1, ip.find(']') - 1);
    else if (std::count(ip.begin(), ip.end(), ':') == 1)
      ip = ip.substr(0, ip.find(':'));
  }
  if (g.scenario.contains("whois") && g.scenario["whois"].contains(ip))
    return json_reply(g.scenario["whois"][ip]);
  json peer;
  const auto& peers = g.status_template.contains("Peer") ? g.status_template["Peer"] : json();
  if (addr.rfind("nodekey:", 0) == 0 && peers.is_object() && peers.contains(addr))
    peer = peers[addr];
  else if (logged_in_state(g.state))
    peer = peer_by_ip_locked(ip);
  if (peer.is_null()) return text_error(404, "no match for IP:port");
  json addresses = json::array();
  if (peer.contains("TailscaleIPs") && peer["TailscaleIPs"].is_array())
    for (const auto& a : peer["TailscaleIPs"])
      if (a.is_string())
        addresses.push_back(a.get<std::string>() +
                            (a.get<std::string>().find(':') == std::string::npos ? "/32" : "/128"));
  json node = {
      {"ID", peer.value("NodeID", 0)},
      {"StableID", peer.value("ID", "")},
      {"Name", peer.value("DNSName", "")},
      {"User", peer.value("UserID", 0)},
      {"Key", peer.value("PublicKey", "")},
      {"Addresses", addresses},
      {"AllowedIPs", peer.value("AllowedIPs", addresses)},
      {"Hostinfo", {{"Hostname", peer.value("HostName", "")}, {"OS", peer.value("OS", "")}}}};
  if (peer.contains("Tags")) node["Tags"] = peer["Tags"];
  if (peer.contains("PrimaryRoutes")) node["PrimaryRoutes"] = peer["PrimaryRoutes"];
  json profile = json::object();
  std::string uid = std::to_string(peer.value("UserID", 0));
  if (g.status_template.contains("User") && g.status_template["User"].contains(uid))
    profile = g.status_template["User"][uid];
  return json_reply(json{{"Node", node}, {"UserProfile", profile}, {"CapMap", json::object()}});
}

void login_result_locked(const std::string& key) {
  json keys = g.scenario.value("auth_keys", json::object());
  std::string result = "rejected", message;
  if (keys.contains(key)) {
    const json& k = keys[key];
    if (k.is_string())
      result = k.get<std::string>();
    else if (k.is_object()) {
      result = k.value("result", "rejected");
      message = k.value("message", "");
    }
  }
  if (result == "accepted") {
    g.prefs["LoggedOut"] = false;
    g.prefs["WantRunning"] = true;
    g.auth_url.clear();
    broadcast_locked(json{{"Prefs", g.prefs}});
    broadcast_locked(json{{"LoginFinished", json::object()}});
    bool machine_auth = g.scenario.value("machine_auth_required", false);
    set_state_locked("Starting");
    set_state_locked(machine_auth ? "NeedsMachineAuth" : "Running");
    return;
  }
  if (message.empty())
    message = result == "expired" ? "invalid key: API key has expired"
                                  : "invalid key: unable to validate API key";
  set_state_locked("NeedsLogin");
  broadcast_locked(json{{"ErrMessage", message}});
}

Reply handle_localapi_locked(const Request& r, Special& special) {
  const std::string& e = r.endpoint;
  if (e == "status") {
    if (r.method != "GET") return text_error(405, "want GET");
    bool peers = true;
    if (auto it = r.query.find("peers"); it != r.query.end())
      peers = !(it->second == "false" || it->second == "0");
    return json_reply(status_json_locked(peers));
  }
  if (e == "prefs") {
    if (r.method == "GET") return json_reply(g.prefs);
    if (r.method != "PATCH") return text_error(405, "want GET or PATCH");
    json mp = json::parse(r.body, nullptr, false);
    if (!mp.is_object()) return json_reply(json{{"Error", "invalid MaskedPrefs JSON"}}, 400);
    json next = g.prefs;
    for (const auto& [k, v] : mp.items()) {
      if (k.size() > 3 && k.compare(k.size() - 3, 3, "Set") == 0) continue;
      auto set = mp.find(k + "Set");
      if (set != mp.end() && set->is_boolean() && set->get<bool>()) next[k] = v;
    }
    if (auto err = validate_prefs(next)) return json_reply(json{{"Error", *err}}, 400);
    json old = g.prefs;
    g.prefs = next;
    after_prefs_change_locked(old);
    return json_reply(g.prefs);
  }
  if (e == "check-prefs") {
    if (r.method != "POST") return text_error(405, "want POST");
    json p = json::parse(r.body, nullptr, false);
    if (!p.is_object()) return text_error(400, "invalid JSON body");
    if (auto err = validate_prefs(p)) return json_reply(json{{"Error", *err}});
    return json_reply(json::object());
  }
  if (e == "start") {
    if (r.method != "POST") return text_error(405, "want POST");
    json o = json::parse(r.body, nullptr, false);
    if (!o.is_object()) return text_error(400, "invalid JSON body");
    json old = g.prefs;
    if (o.contains("UpdatePrefs") && o["UpdatePrefs"].is_object()) {
      for (const auto& [k, v] : o["UpdatePrefs"].items())
        if (k != "Config") g.prefs[k] = v;
      if (auto err = validate_prefs(g.prefs)) {
        g.prefs = old;
        return text_error(400, *err);
      }
      apply_exit_node_locked();
      broadcast_locked(json{{"Prefs", g.prefs}});
    }
    std::string key = o.value("AuthKey", "");
    if (!key.empty()) {
      login_result_locked(key);
    } else if (logged_in_state(g.state) && g.prefs.value("WantRunning", false) &&
               g.state != "Running") {
      set_state_locked("Starting");
      set_state_locked("Running");
    } else if (g.state == "NoState") {
      set_state_locked("NeedsLogin");
    }
    return Reply{204, "", ""};
  }
  if (e == "login-interactive") {
    if (r.method != "POST") return text_error(405, "want POST");
    g.auth_url = g.scenario.value("auth_url", "https://login.tailscale.com/a/fake0123456789");
    broadcast_locked(json{{"BrowseToURL", g.auth_url}});
    return Reply{204, "", ""};
  }
  if (e == "logout") {
    if (r.method != "POST") return text_error(405, "want POST");
    g.prefs["LoggedOut"] = true;
    g.prefs["WantRunning"] = false;
    set_state_locked("NeedsLogin");
    return Reply{204, "", ""};
  }
  if (e == "ping") return handle_ping_locked(r, special);
  if (e == "whois") return handle_whois_locked(r);
  if (e == "derpmap")
    return json_reply(g.scenario.contains("derpmap") ? g.scenario["derpmap"] : default_derpmap());
  if (e == "check-ip-forwarding")
    return json_reply(json{{"Warning", g.scenario.value("ip_forwarding_warning", "")}});
  if (e == "check-udp-gro-forwarding") return json_reply(json{{"Warning", ""}});
  if (e == "usermetrics") {
    std::string text = g.scenario.value("usermetrics", "");
    if (text.empty()) {
      std::size_t warnings = g.status_template.value("Health", json::array()).size();
      text =
          "# TYPE tailscaled_health_messages gauge\n# HELP tailscaled_health_messages Number of "
          "health messages broken down by type.\n"
          "tailscaled_health_messages{type=\"warning\"} " +
          std::to_string(warnings) +
          "\n"
          "# TYPE tailscaled_inbound_bytes_total "
          "counter\ntailscaled_inbound_bytes_total{path=\"direct_ipv4\"} 123456\n";
    }
    return Reply{200, "text/plain; version=0.0.4; charset=utf-8", text};
  }
  return text_error(404, "404 page not found");
}

// ---------------------------------------------------------------------------------------------
// Control endpoints (/fake/v0/...); called with g.mu held unless noted.

Reply handle_control_locked(const Request& r, std::optional<int>& restart_ms,
                            std::optional<bool>& socket) {
  const std::string& e = r.endpoint;
  json body = r.body.empty() ? json::object() : json::parse(r.body, nullptr, false);
  if (body.is_discarded()) return text_error(400, "invalid JSON body");
  if (e == "health") return Reply{200, "text/plain", "ok\n"};
  if (e == "state") {
    if (r.method == "GET") return json_reply(json{{"state", g.state}});
    std::string s = body.value("state", "");
    if (!state_to_int(s) && s != "NoState") return text_error(400, "unknown state " + s);
    if (logged_in_state(s)) g.prefs["LoggedOut"] = false;
    if (s == "Running") g.prefs["WantRunning"] = true;
    if (body.contains("auth_url")) g.auth_url = body.value("auth_url", "");
    set_state_locked(s);
    return json_reply(json{{"state", g.state}});
  }
  if (e == "fault") {
    std::string ep = body.value("endpoint", "*");
    std::string mode = body.value("mode", "none");
    if (mode == "none")
      g.faults.erase(ep);
    else
      g.faults[ep] = body;
    return json_reply(g.faults);
  }
  if (e == "faults/clear") {
    g.faults = json::object();
    return json_reply(g.faults);
  }
  if (e == "restart") {
    restart_ms = body.value("down_ms", 300);
    return json_reply(json{{"restarting", true}});
  }
  if (e == "socket") {
    socket = body.value("present", true);
    return json_reply(json{{"present", *socket}});
  }
  if (e == "requests") return json_reply(g.requests);
  if (e == "notify") {
    broadcast_locked(body);
    return json_reply(json::object());
  }
  if (e == "prefs") {
    json old = g.prefs;
    for (const auto& [k, v] : body.items()) g.prefs[k] = v;
    after_prefs_change_locked(old);
    return json_reply(g.prefs);
  }
  if (e == "status") {  // merge keys into the status template (e.g. Health, Peer)
    for (const auto& [k, v] : body.items()) g.status_template[k] = v;
    if (body.contains("Health")) broadcast_locked(json{{"Health", {{"Warnings", json::object()}}}});
    return json_reply(status_json_locked(true));
  }
  return text_error(404, "unknown control endpoint " + e);
}

// ---------------------------------------------------------------------------------------------

void serve_watch(int fd, int gen, const Request& r) {
  std::uint64_t mask = 0;
  if (auto it = r.query.find("mask"); it != r.query.end() && !it->second.empty()) {
    try {
      mask = std::stoull(it->second);
    } catch (...) {
      send_reply(fd, text_error(400, "bad mask"));
      return;
    }
  }
  if (mask & 65536) {
    send_reply(fd, text_error(400, "NotifyInProcessNoDisconnect is not allowed over HTTP"));
    return;
  }
  if ((mask & 256) && (mask & (4096 | 8192 | 16384 | 32768))) {
    send_reply(fd, text_error(400, "NotifyRateLimit cannot be combined with peer-change bits"));
    return;
  }
  auto w = std::make_shared<Watcher>();
  w->mask = mask;
  {
    std::lock_guard lk(g.mu);
    if (mask & (2 | 4 | 128)) {
      json ini = {{"Version", g.scenario.value("version", kVersion)}};
      if (mask & 2) {
        ini["SessionID"] = g.session_id;
        ini["State"] = state_to_int(g.state);
        if (g.state == "NeedsLogin" && !g.auth_url.empty()) ini["BrowseToURL"] = g.auth_url;
      }
      if (mask & 4) ini["Prefs"] = g.prefs;
      if (mask & 128)
        ini["Health"] = {{"Warnings", g.scenario.value("health_warnings", json::object())}};
      w->queue.push_back(dump_line(ini));
    }
    g.watchers.insert(w);
  }
  Reply head{200, "application/json", ""};
  bool ok = send_all(fd, head_of(head, std::nullopt));
  auto next_engine = Clock::now() + 500ms;
  while (ok) {
    std::vector<std::string> lines;
    {
      std::unique_lock lk(g.mu);
      g.cv.wait_for(lk, 50ms,
                    [&] { return !w->queue.empty() || g.stopping || g.generation != gen; });
      if (g.stopping || g.generation != gen) break;
      while (!w->queue.empty()) {
        lines.push_back(std::move(w->queue.front()));
        w->queue.pop_front();
      }
      if ((mask & 1) && Clock::now() >= next_engine) {
        g.engine_bytes += 1000;
        lines.push_back(dump_line(json{{"Engine",
                                        {{"RBytes", g.engine_bytes},
                                         {"WBytes", g.engine_bytes / 2},
                                         {"NumLive", 2},
                                         {"LiveDERPs", 1}}}}));
        next_engine = Clock::now() + 500ms;
      }
    }
    for (const auto& l : lines) {
      char size[32];
      std::snprintf(size, sizeof size, "%zx\r\n", l.size());
      if (!send_all(fd, std::string(size) + l + "\r\n")) ok = false;
    }
    // Has the client gone away?
    pollfd p{fd, POLLIN, 0};
    if (ok && ::poll(&p, 1, 0) > 0) {
      char c;
      if (::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) <= 0) ok = false;
    }
  }
  std::lock_guard lk(g.mu);
  g.watchers.erase(w);
}

void serve_connection(int fd, bool control_only) {
  int gen;
  {
    std::lock_guard lk(g.mu);
    gen = g.generation;
  }
  Request r;
  if (!read_request(fd, r)) return;

  // Control endpoints: on the control socket always, on the main socket too.
  if (r.path.rfind("/fake/v0/", 0) == 0) {
    r.endpoint = r.path.substr(9);
    std::optional<int> restart_ms;
    std::optional<bool> socket;
    Reply rep;
    {
      std::lock_guard lk(g.mu);
      rep = handle_control_locked(r, restart_ms, socket);
    }
    // Socket changes happen before the reply, so a caller sees them as soon as it has the answer.
    if (restart_ms) {
      set_socket_present(false);
      {
        std::lock_guard lk(g.mu);
        g.session_id = "fake-session-" + std::to_string(g.generation + 1);
      }
      restart_later(*restart_ms);
    }
    if (socket) set_socket_present(*socket);
    send_reply(fd, rep);
    return;
  }
  if (control_only) {
    send_reply(fd, text_error(404, "the control socket only serves /fake/v0/"));
    return;
  }

  json fault;
  {
    std::lock_guard lk(g.mu);
    json hdrs = json::object();
    for (const auto& [k, v] : r.headers) hdrs[k] = v;
    g.requests.push_back(json{{"method", r.method}, {"target", r.target}, {"headers", hdrs}});
  }
  // tailscaled's request checks (tailscale-api.md §1.2).
  auto host = r.headers.find("host");
  if (host != r.headers.end() && !host->second.empty() && host->second != "local-tailscaled.sock") {
    send_reply(fd, text_error(403, "invalid localapi request"));
    return;
  }
  if (r.headers.count("referer") || r.headers.count("origin")) {
    send_reply(fd, text_error(403, "invalid localapi request"));
    return;
  }
  if (r.path.rfind("/localapi/v0/", 0) != 0) {
    send_reply(fd, text_error(404, "404 page not found"));
    return;
  }
  r.endpoint = r.path.substr(13);

  {
    std::lock_guard lk(g.mu);
    for (const std::string& key : {r.endpoint, std::string("*")}) {
      auto it = g.faults.find(key);
      if (it == g.faults.end()) continue;
      fault = *it;
      if (it->contains("count")) {
        int left = it->value("count", 1) - 1;
        if (left <= 0)
          g.faults.erase(it);
        else
          (*it)["count"] = left;
      }
      break;
    }
  }

  std::string mode = fault.is_object() ? fault.value("mode", "") : "";
  int delay_ms = fault.is_object() ? fault.value("delay_ms", 0) : 0;
  if (mode == "hang") {
    hold(fd, gen, std::nullopt);
    return;
  }
  if (mode == "reset") {
    reset_connection(fd);
    return;
  }
  if (mode == "close") return;  // close without answering
  if (mode == "restart") {      // the daemon dies while this request is in flight
    set_socket_present(false);
    restart_later(fault.value("down_ms", 300));
    return;
  }
  if (mode == "slow") hold(fd, gen, Clock::now() + std::chrono::milliseconds(delay_ms));
  if (mode == "http") {
    int status = fault.value("status", 500);
    std::string body =
        fault.value("body", status == 403 ? r.endpoint + " access denied" : "internal error");
    bool is_json = !body.empty() && body.front() == '{';
    send_reply(fd,
               is_json ? Reply{status, "application/json", body + "\n"} : text_error(status, body));
    return;
  }

  if (r.endpoint == "watch-ipn-bus") {
    if (mode == "malformed") {
      send_all(fd, head_of(Reply{200, "application/json", ""}, std::nullopt) +
                       "b\r\n{\"State\":6,\n\r\n");
      hold(fd, gen, std::nullopt);
      return;
    }
    serve_watch(fd, gen, r);
    return;
  }

  Reply rep;
  Special special = Special::none;
  {
    std::lock_guard lk(g.mu);
    std::string perm = g.scenario.value("permission", "write");
    if (is_write_endpoint(r) && perm != "write") {
      rep = text_error(403, (r.endpoint == "prefs" ? std::string("prefs write") : r.endpoint) +
                                " access denied");
    } else {
      rep = handle_localapi_locked(r, special);
    }
  }
  if (special == Special::hang) {
    hold(fd, gen, std::nullopt);
    return;
  }
  if (mode == "malformed" && rep.status == 200)
    rep.body = "{\"BackendState\": \"Running\", \"Self\": {\"ID\": ,}}\n";
  if (mode == "truncated" && rep.status == 200)
    rep.body = rep.body.substr(0, std::max<std::size_t>(rep.body.size() / 2, 1));
  if (mode == "short_body") {  // Content-Length says more than we send
    send_all(fd, head_of(rep, rep.body.size()) + rep.body.substr(0, rep.body.size() / 2));
    return;
  }
  if (mode == "dribble") {  // one byte every delay_ms
    std::string all = head_of(rep, rep.body.size()) + rep.body;
    for (char c : all) {
      if (!send_all(fd, std::string_view(&c, 1))) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(std::max(delay_ms, 1)));
      std::lock_guard lk(g.mu);
      if (g.stopping || g.generation != gen) return;
    }
    return;
  }
  send_reply(fd, rep);
}

json load_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "fake-tailscaled: cannot read scenario " << path << "\n";
    std::exit(2);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  json j = json::parse(ss.str(), nullptr, false, /*ignore_comments=*/true);
  if (!j.is_object()) {
    std::cerr << "fake-tailscaled: scenario " << path << " is not a JSON object\n";
    std::exit(2);
  }
  return j;
}

int usage() {
  std::cerr << "usage: fake-tailscaled --socket PATH [--scenario FILE] [--control-socket PATH]\n"
               "                       [--state STATE] [--absent]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string socket_path, scenario_path, control_path, state_override;
  bool absent = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&](std::string& out) {
      auto eq = a.find('=');
      if (eq != std::string::npos)
        out = a.substr(eq + 1);
      else if (i + 1 < argc)
        out = argv[++i];
      else
        std::exit(usage());
    };
    if (a.rfind("--socket", 0) == 0)
      val(socket_path);
    else if (a.rfind("--scenario", 0) == 0)
      val(scenario_path);
    else if (a.rfind("--control-socket", 0) == 0)
      val(control_path);
    else if (a.rfind("--state", 0) == 0)
      val(state_override);
    else if (a == "--absent")
      absent = true;
    else
      return usage();
  }
  if (socket_path.empty()) return usage();
  signal(SIGPIPE, SIG_IGN);

  g.scenario = scenario_path.empty() ? json::object() : load_json(scenario_path);
  g.state = state_override.empty() ? g.scenario.value("state", "NoState") : state_override;
  g.status_template = g.scenario.value("status", json::object());
  g.prefs = default_prefs();
  if (g.scenario.contains("prefs") && g.scenario["prefs"].is_object())
    for (const auto& [k, v] : g.scenario["prefs"].items()) g.prefs[k] = v;
  if (logged_in_state(g.state)) g.prefs["LoggedOut"] = false;
  g.auth_url = g.scenario.value("auth_url_initial", "");
  if (g.scenario.contains("faults") && g.scenario["faults"].is_object())
    g.faults = g.scenario["faults"];
  apply_exit_node_locked();
  g.socket_path = socket_path;
  g.socket_present = false;

  // Block SIGTERM/SIGINT and wait for them on the main thread.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  if (!control_path.empty()) {
    int cfd = listen_on(control_path);
    std::thread([cfd] { accept_loop(cfd, true, 0); }).detach();
  }
  if (!absent && !g.scenario.value("socket_absent", false)) set_socket_present(true);

  int sig = 0;
  sigwait(&set, &sig);
  {
    std::lock_guard lk(g.mu);
    g.stopping = true;
    g.cv.notify_all();
  }
  ::unlink(socket_path.c_str());
  if (!control_path.empty()) ::unlink(control_path.c_str());
  std::fflush(nullptr);
  _exit(0);  // detached connection threads may still run; do not run destructors under them
}
