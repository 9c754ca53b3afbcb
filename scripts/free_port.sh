# Sourced by the test scripts that start servers: free_port prints a loopback
# TCP port nothing listens on (20000–49999, drawn at random; 50 tries), or
# calls the sourcing script's fail().
free_port() {
  local p
  for _ in $(seq 50); do
    p=$(( 20000 + RANDOM % 30000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  fail "no free port found"
}
