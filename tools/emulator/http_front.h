// The emulator's two HTTP servers (cpp-httplib), both on 127.0.0.1 only:
// * the Runtime API, for the sandbox: /2018-06-01/runtime/invocation/next,
//   /2018-06-01/runtime/invocation/{id}/response|error, /2018-06-01/runtime/init/error;
// * the invoke endpoint, for callers: POST /2015-03-31/functions/{name}/invocations (Lambda Invoke's
//   path; any function name is accepted).
#pragma once

#include <memory>
#include <thread>

#include "chromapact/status.h"
#include "emulator.h"

namespace httplib {
class Server;
}

namespace chromapact::emulator {

class HttpFront {
 public:
  explicit HttpFront(Emulator& emulator);
  ~HttpFront();  // Stop()

  // Binds both listening sockets; port 0 picks a free one. Errors: kUnavailable naming the port.
  Status Bind(int invoke_port, int runtime_port);
  int invoke_port() const { return invoke_port_; }
  int runtime_port() const { return runtime_port_; }
  // Serves on background threads until Stop().
  void Start();
  // Stops both servers and joins their threads; handlers blocked in the emulator must have been
  // released first (Emulator::Shutdown()).
  void Stop();

 private:
  void Routes();
  Emulator& emulator_;
  std::unique_ptr<httplib::Server> runtime_;
  std::unique_ptr<httplib::Server> invoke_;
  std::thread runtime_thread_;
  std::thread invoke_thread_;
  int invoke_port_ = 0;
  int runtime_port_ = 0;
};

}  // namespace chromapact::emulator
