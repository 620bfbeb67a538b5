# services.tsfleet: `tsfleet monitor` as a long-running service (Prometheus metrics, a
# node_exporter textfile, alert hooks, optional restarts of tailscaled) and a health-check timer
# running `tsfleet monitor --once`, like a timer that restarts tailscaled when it is not Running.
{ config, lib, pkgs, ... }:

let
  inherit (lib) mkOption mkEnableOption mkIf mkMerge types;
  cfg = config.services.tsfleet;

  # One ExecStart word, quoted for systemd (not a shell): "…" with \ and " escaped, and % and $
  # doubled so systemd expands neither specifiers nor variables.
  systemdWord = s: "\"" + builtins.replaceStrings [ "\\" "\"" "%" "$" ] [ "\\\\" "\\\"" "%%" "$$" ] (toString s) + "\"";
  execLine = words: builtins.concatStringsSep " " (map systemdWord words);

  tsfleetBin = "${cfg.package}/bin/tsfleet";
  systemctl = "${pkgs.systemd}/bin/systemctl";

  common =
    lib.optionals (cfg.socket != null) [ "--socket" cfg.socket ]
    ++ lib.optionals (cfg.fleetFile != null) [ "--fleet" cfg.fleetFile ];

  m = cfg.monitor;
  monitorArgs =
    [ tsfleetBin "monitor" "--interval" m.interval "--format" m.format "--expiry-warning" m.expiryWarning ]
    ++ common
    ++ lib.optionals (m.listenAddress != null) [ "--listen" m.listenAddress ]
    ++ lib.optionals (m.textfile != null) [ "--textfile" m.textfile ]
    ++ lib.optionals (m.onEvent != null) [ "--on-event" m.onEvent "--hook-timeout" m.hookTimeout ]
    ++ lib.optionals (m.restartAfter > 0) [
      "--restart-after" (toString m.restartAfter)
      "--max-restarts" (toString m.maxRestarts)
      "--systemctl" systemctl
    ]
    ++ m.extraArgs;

  h = cfg.healthCheck;
  healthArgs =
    [ tsfleetBin "monitor" "--once" ]
    ++ common
    ++ lib.optionals h.restart [ "--restart-after" "1" "--systemctl" systemctl ]
    ++ h.extraArgs;

  # Restarting tailscaled needs root; reading the LocalAPI does not (its socket is 0666 and
  # every connection may read), so the monitor runs as a throw-away user when it only watches.
  monitorNeedsRoot = m.restartAfter > 0 || m.textfile != null;
in
{
  options.services.tsfleet = {
    package = mkOption {
      type = types.package;
      default = pkgs.tsfleet or (pkgs.callPackage ./package.nix { });
      defaultText = lib.literalExpression "pkgs.tsfleet";
      description = "The tsfleet package.";
    };

    socket = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "/run/tailscale/tailscaled.sock";
      description = "tailscaled's LocalAPI socket; null: tsfleet's default search (/var/run, then /run).";
    };

    fleetFile = mkOption {
      type = types.nullOr types.path;
      default = null;
      example = "/etc/tsfleet/tsfleet.json";
      description = ''
        The fleet inventory. With it, monitor also checks what each host's role expects of the live
        tailnet (present, online, routers reached directly) and exports tsfleet_expectation_met.
      '';
    };

    monitor = {
      enable = mkEnableOption "tsfleet monitor, a service watching tailscaled (events, Prometheus metrics, alert hooks)";

      interval = mkOption {
        type = types.str;
        default = "30s";
        description = "Time between polls of the LocalAPI (each ±10% at random), e.g. 30s, 5s, 2m.";
      };

      format = mkOption {
        type = types.enum [ "text" "json" ];
        default = "text";
        description = "Events in the journal as text lines or JSON lines.";
      };

      listenAddress = mkOption {
        type = types.nullOr types.str;
        default = "127.0.0.1:9101";
        example = "[::1]:9101";
        description = "Serve Prometheus metrics at http://ADDR:PORT/metrics; null: no HTTP server.";
      };

      textfile = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "/var/lib/prometheus-node-exporter-text-files/tsfleet.prom";
        description = "Also write the metrics to this file after every poll (atomically), for node_exporter's textfile collector.";
      };

      expiryWarning = mkOption {
        type = types.str;
        default = "14d";
        description = "Report node keys that expire within this time.";
      };

      onEvent = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "/etc/tsfleet/alert --channel ops";
        description = ''
          A command run for every event with the event's JSON on stdin. Words are split on spaces
          and run without a shell.
        '';
      };

      hookTimeout = mkOption {
        type = types.str;
        default = "10s";
        description = "Kill an onEvent command that runs longer than this.";
      };

      restartAfter = mkOption {
        type = types.ints.unsigned;
        default = 0;
        description = ''
          Restart tailscaled after this many consecutive failed polls (daemon unreachable or not
          Running), with exponential backoff between restarts; 0: never.
        '';
      };

      maxRestarts = mkOption {
        type = types.ints.unsigned;
        default = 3;
        description = "At most this many restarts until tailscaled is healthy again.";
      };

      extraArgs = mkOption {
        type = types.listOf types.str;
        default = [ ];
        example = [ "--timeout" "5s" ];
        description = "More arguments for tsfleet monitor.";
      };
    };

    healthCheck = {
      enable = mkEnableOption "a timer running `tsfleet monitor --once`, which fails when tailscaled is unhealthy";

      interval = mkOption {
        type = types.str;
        default = "5min";
        description = "How often the check runs (and how long after boot it first runs): a systemd time span.";
      };

      restart = mkOption {
        type = types.bool;
        default = true;
        description = "Restart tailscaled when the check finds it unreachable or not Running.";
      };

      extraArgs = mkOption {
        type = types.listOf types.str;
        default = [ ];
        description = "More arguments for tsfleet monitor --once.";
      };
    };
  };

  config = mkMerge [
    (mkIf m.enable {
      systemd.services.tsfleet-monitor = {
        description = "tsfleet monitor: Tailscale health, metrics and alerts";
        wantedBy = [ "multi-user.target" ];
        after = [ "tailscaled.service" "network-online.target" ];
        wants = [ "network-online.target" ];
        serviceConfig = {
          ExecStart = execLine monitorArgs;
          Restart = "on-failure";
          RestartSec = "5s";
          DynamicUser = !monitorNeedsRoot;
          ProtectSystem = "strict";
          ProtectHome = true;
          PrivateTmp = true;
          NoNewPrivileges = true;
          RestrictAddressFamilies = [ "AF_UNIX" "AF_INET" "AF_INET6" ];
          ReadWritePaths = lib.optional (m.textfile != null) (dirOf m.textfile);
        };
      };
    })
    (mkIf h.enable {
      systemd.services.tsfleet-health = {
        description = "tsfleet health check: is tailscaled Running?";
        after = [ "tailscaled.service" ];
        serviceConfig = {
          Type = "oneshot";
          ExecStart = execLine healthArgs;
        };
      };
      systemd.timers.tsfleet-health = {
        wantedBy = [ "timers.target" ];
        timerConfig = {
          OnBootSec = h.interval;
          OnUnitActiveSec = h.interval;
          Unit = "tsfleet-health.service";
        };
      };
    })
  ];
}
