#pragma once
// The doctor checks, one function each (private to src/lib/doctor; the catalogue in doctor.cpp
// lists them with their ids).
#include <vector>

#include "tsfleet/doctor/doctor.h"

namespace tsfleet::doctor::detail {

std::vector<Result> check_daemon(DoctorContext& c);
std::vector<Result> check_socket_permission(DoctorContext& c);
std::vector<Result> check_state_dir(DoctorContext& c);
std::vector<Result> check_tun_interface(DoctorContext& c);
std::vector<Result> check_ip_forwarding(DoctorContext& c);
std::vector<Result> check_rp_filter(DoctorContext& c);
std::vector<Result> check_firewall_mode(DoctorContext& c);
std::vector<Result> check_firewall_trust(DoctorContext& c);
std::vector<Result> check_udp_port(DoctorContext& c);
std::vector<Result> check_direct_paths(DoctorContext& c);
std::vector<Result> check_magicdns(DoctorContext& c);
std::vector<Result> check_resolv_conf(DoctorContext& c);
std::vector<Result> check_key_expiry(DoctorContext& c);
std::vector<Result> check_version_skew(DoctorContext& c);
std::vector<Result> check_clock(DoctorContext& c);
std::vector<Result> check_health(DoctorContext& c);

}  // namespace tsfleet::doctor::detail
