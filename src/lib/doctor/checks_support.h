#pragma once
// Helpers the doctor checks share (private to src/lib/doctor).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tsfleet/doctor/doctor.h"
#include "tsfleet/doctor/parsers.h"

namespace tsfleet::doctor::detail {

Result make(const DoctorContext& c, std::string_view id, Outcome o, std::string file,
            std::string summary, std::string fix = "", std::string detail = "");

// A file's text; nullopt when missing. `error` receives the reason when it exists but cannot be
// read (then nullopt too).
std::optional<std::string> read_text(const DoctorContext& c, std::string_view path,
                                     std::string* error = nullptr);
std::optional<long long> read_int(const DoctorContext& c, std::string_view path);

// The SKIP a daemon-based check gives when tailscaled could not be asked.
Result daemon_skip(const DoctorContext& c, std::string_view id);
bool daemon_up(const DoctorContext& c);

// What this host does with routes, from the daemon's prefs and the inventory.
struct Usage {
  bool uses_exit_node = false;
  bool accepts_routes = false;
  bool offers_routes = false;
  bool offers_exit_node = false;
  std::string uses_why, offers_why;  // "the daemon's prefs", "the fleet file", ...
  bool router() const { return offers_routes || offers_exit_node; }
  bool client() const { return uses_exit_node || accepts_routes; }
};
Usage usage(const DoctorContext& c);
// "client" | "server" | "both" for services.tailscale.useRoutingFeatures.
std::string routing_features_value(const Usage& u);

// The TUN interface name (the plan's, tailscaled's --tun, else tailscale0); userspace is set
// when tailscaled runs without a TUN device.
std::string interface_name(DoctorContext& c, bool* userspace = nullptr);

const std::optional<DaemonProcess>& daemon_process(DoctorContext& c);

// The firewall ruleset: the live system's `iptables-save` and `nft list ruleset` (as root), or
// the snapshot's /.tsfleet/iptables-save.txt and /.tsfleet/nft-ruleset.txt. nullopt when none.
std::optional<RulesetHints> ruleset(DoctorContext& c, std::string* source = nullptr);

// tailscaled's environment from its unit file and drop-ins (/etc/systemd/system/tailscaled.service
// and tailscaled.service.d/*.conf), and the files read.
std::map<std::string, std::string> unit_environment(const DoctorContext& c,
                                                    std::vector<std::string>* files);

bool resolved_present(const DoctorContext& c);

// A health warning as one line: "Title: text" (either alone when the other is empty).
std::string warning_line(const localapi::HealthWarning& w);

std::string join(const std::vector<std::string>& v, std::string_view sep);

}  // namespace tsfleet::doctor::detail
