# Shared by the CI steps that run a freshly built server (source it): a free
# loopback port, and waiting for /healthz while the server process lives.

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_until_serving PORT PID LOG: returns once /healthz answers (or after 10 s, and
# the step's own requests then fail); fails with the server's log if it exits first.
wait_until_serving() {
  local port=$1 pid=$2 log=$3
  for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "FAIL: the server exited during start-up:" >&2
      cat "$log" >&2
      exit 1
    fi
    sleep 0.1
  done
}
