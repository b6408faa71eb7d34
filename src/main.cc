// switchyard: command-line entry point.
//   switchyard serve --config FILE [--listen HOST:PORT]
//   switchyard validate --config FILE
//   switchyard init --config FILE [--force]
//   switchyard version
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <mutex>
#include <string>

#include "common/log.h"
#include "config/config.h"
#include "governance/tenancy.h"
#include "server/gateway.h"
#include "server/listener.h"
#include "version.h"

namespace {

constexpr const char* kUsage =
    "usage:\n"
    "  switchyard serve --config FILE [--listen HOST:PORT]   run the gateway\n"
    "  switchyard validate --config FILE                     check a config; exit 0 or 1\n"
    "  switchyard init --config FILE [--force]               create the management (admin) key in the\n"
    "                                                        config's store and print it once\n"
    "  switchyard version                                    print the version\n";

struct Args {
  std::string command;
  std::string config_path;
  std::string listen;
  bool force = false;
  std::string error;
};

Args ParseArgs(int argc, char** argv) {
  Args args;
  if (argc < 2) {
    args.error = "missing command";
    return args;
  }
  args.command = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string* out) {
      if (auto eq = a.find('='); eq != std::string::npos) {
        *out = a.substr(eq + 1);
      } else if (i + 1 < argc) {
        *out = argv[++i];
      } else {
        args.error = a + " needs a value";
      }
    };
    if (a == "--config" || a.starts_with("--config=") || a == "-c") {
      value(&args.config_path);
    } else if (a == "--listen" || a.starts_with("--listen=")) {
      value(&args.listen);
    } else if (a == "--force") {
      args.force = true;
    } else {
      args.error = "unknown argument: " + a;
    }
  }
  return args;
}

std::optional<sy::config::Config> Load(const std::string& path) {
  auto result = sy::config::LoadConfigFile(path, sy::config::ProcessEnv());
  if (!result.errors.empty()) {
    std::fprintf(stderr, "%s: %zu problem(s):\n", path.c_str(), result.errors.size());
    for (const auto& e : result.errors) {
      std::fprintf(stderr, "  %s: %s\n", e.path.empty() ? "(root)" : e.path.c_str(), e.message.c_str());
    }
    return std::nullopt;
  }
  return std::move(result.config);
}

// Thousands of keep-alive clients need thousands of descriptors: raise the
// soft limit to the hard one, and say so when server.max_connections cannot
// be reached (each connection needs one; one with a request in flight holds
// an upstream connection too).
void RaiseFileLimit(uint64_t max_connections) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    getrlimit(RLIMIT_NOFILE, &lim);
  }
  if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < max_connections + 64) {
    std::fprintf(stderr,
                 "warning: open file limit %llu is below what server.max_connections %llu may need (%llu); "
                 "raise it (ulimit -n) or lower max_connections\n",
                 static_cast<unsigned long long>(lim.rlim_cur), static_cast<unsigned long long>(max_connections),
                 static_cast<unsigned long long>(max_connections + 64));
  }
}

int Serve(const Args& args) {
  std::string listen_override;  // --listen: the socket only; the config (and any file the admin API writes) keeps its own
  auto config = Load(args.config_path);
  if (!config) return 1;
  if (!args.listen.empty()) {
    std::string host;
    uint16_t port;
    if (!sy::config::SplitListen(args.listen, &host, &port)) {
      std::fprintf(stderr, "--listen: expected HOST:PORT, got '%s'\n", args.listen.c_str());
      return 1;
    }
    listen_override = args.listen;
  }
  RaiseFileLimit(config->server.max_connections);
  signal(SIGPIPE, SIG_IGN);
  // Block the shutdown signals in every thread; the main thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::string tenancy_error;
  auto tenancy = sy::gov::Tenancy::Create(*config, &tenancy_error);
  if (!tenancy) {
    std::fprintf(stderr, "switchyard: %s\n", tenancy_error.c_str());
    return 1;
  }
  sy::Gateway gateway(std::move(*config), &tenancy->governance());
  gateway.set_listen_override(listen_override);
  if (std::string problem = gateway.StartupProblem(); !problem.empty()) {
    std::fprintf(stderr, "switchyard: %s\n", problem.c_str());
    return 1;
  }
  sy::Server server(gateway, sy::config::ProcessEnv());
  if (std::string err = server.Bind(); !err.empty()) {
    std::fprintf(stderr, "%s\n", err.c_str());
    return 1;
  }
  server.Start();
  const std::string& host = server.host();
  std::string shown = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  std::printf("switchyard listening on %s:%u\n", shown.c_str(), server.port());
  std::fflush(stdout);
  sy::log::Info("switchyard ", sy::kVersion, " serving on http://", shown, ":", server.port(), " with ",
                gateway.config().providers.size(), " provider(s) and ", gateway.config().models.size(),
                " model alias(es)");

  int sig = 0;
  for (;;) {
    sigwait(&signals, &sig);
    if (sig != SIGHUP) break;
    // SIGHUP: reload the config file; a file with problems changes nothing.
    // Under the reload lock: an admin write cannot land between the read and
    // the swap.
    std::lock_guard<std::mutex> reload_lock(gateway.reload_mutex());
    auto next = sy::config::LoadConfigFile(args.config_path, sy::config::ProcessEnv());
    if (!next.errors.empty()) {
      sy::log::Warn("SIGHUP: ", args.config_path, " has ", next.errors.size(),
                    " problem(s); the running configuration stays. First: ", next.errors[0].path, ": ",
                    next.errors[0].message);
      continue;
    }
    std::vector<std::string> restart;
    gateway.Reload(std::move(*next.config), &restart);
    std::string pending;
    for (const auto& r : restart) pending += (pending.empty() ? "" : ", ") + r;
    sy::log::Info("SIGHUP: configuration reloaded from ", args.config_path,
                  pending.empty() ? "" : " (applied at the next restart: " + pending + ")");
  }
  sy::log::Info("received ", sig == SIGTERM ? "SIGTERM" : "SIGINT", ": draining (up to ",
                gateway.config().server.shutdown_timeout_s, " s)");
  bool clean = server.Shutdown();
  tenancy->Stop();  // every usage record to the store or the spool
  sy::log::Info(clean ? "shutdown complete" : "shutdown complete (some requests were cut off)");
  return 0;
}

}  // namespace

// Creates the management key and prints it once.
int Init(const Args& args) {
  auto config = Load(args.config_path);
  if (!config) return 1;
  const std::string url = sy::gov::StoreUrlOf(*config);
  if (url.empty()) {
    std::fprintf(stderr, "switchyard init: the config's store is none; a management key needs a store "
                         "(or set server.admin_key)\n");
    return 1;
  }
  std::string error;
  auto store = sy::gov::OpenStore(url, sy::gov::ConfigDirOf(*config), &error);
  if (!store) {
    std::fprintf(stderr, "switchyard init: %s\n", error.c_str());
    return 1;
  }
  sy::gov::Status st = store->Migrate();
  std::string key;
  if (st.ok()) st = sy::gov::CreateManagementKey(store.get(), args.force, &key);
  if (!st.ok()) {
    std::fprintf(stderr, "switchyard init: %s\n", st.message().c_str());
    return 1;
  }
  std::printf("management key (shown once; send it as X-Management-Key or Authorization: Bearer):\n%s\n",
              key.c_str());
  return 0;
}

int main(int argc, char** argv) {
  Args args = ParseArgs(argc, argv);
  if (args.command == "--init") args.command = "init";  // llm-mux's spelling
  if (args.command == "version" || args.command == "--version") {
    std::printf("switchyard %s\n", sy::kVersion);
    return 0;
  }
  if (args.command == "help" || args.command == "--help" || args.command == "-h") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (!args.error.empty()) {
    std::fprintf(stderr, "switchyard: %s\n%s", args.error.c_str(), kUsage);
    return 2;
  }
  if (args.command == "serve" || args.command == "validate" || args.command == "init") {
    if (args.config_path.empty()) {
      std::fprintf(stderr, "switchyard %s: --config FILE is required\n", args.command.c_str());
      return 2;
    }
    if (args.command == "init") return Init(args);
    if (args.command == "validate") {
      if (!Load(args.config_path)) return 1;
      std::printf("%s: ok\n", args.config_path.c_str());
      return 0;
    }
    return Serve(args);
  }
  std::fprintf(stderr, "switchyard: unknown command '%s'\n%s", args.command.c_str(), kUsage);
  return 2;
}
