#include "http/connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace tarn::http {

bool ConnectionSet::TryAdd(int fd, size_t limit) {
  std::lock_guard<std::mutex> l(mu_);
  if (fds_.size() >= limit) return false;
  fds_.insert(fd);
  return true;
}

void ConnectionSet::Remove(int fd) {
  std::lock_guard<std::mutex> l(mu_);
  fds_.erase(fd);
}

size_t ConnectionSet::size() const {
  std::lock_guard<std::mutex> l(mu_);
  return fds_.size();
}

void ConnectionSet::ShutdownAll() {
  std::lock_guard<std::mutex> l(mu_);
  for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
}

void Connection::Received(const char* p, size_t n) {
  auto space = buf.prepare(n);
  std::memcpy(space.data(), p, n);
  buf.commit(n);
}

void Connection::Trim() {
  buf.shrink_to_fit();
  if (!head_begun()) parser.reset();
}

Connection::~Connection() {
  // Out of the set before the descriptor is closed: ShutdownAll must never reach a number that
  // another connection has been given meanwhile.
  if (set_) set_->Remove(fd_);
  ::close(fd_);
}

}  // namespace tarn::http
