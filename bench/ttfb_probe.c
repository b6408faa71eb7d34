// ttfb_probe: unloaded time-to-first-chunk probe for bench/run.sh.
//
// Sends N sequential POST requests on ONE keep-alive HTTP/1.1 connection
// (plus a few warm-up requests that are not counted) and, for each one,
// measures from just before write() to:
//   - hdr:   the end of the response headers,
//   - first: the first byte of the first SSE event ("data:") in the body,
//   - end:   the end of the response body.
// Prints one line: "n=N hdr_p50_us=.. first_p50_us=.. first_p90_us=..
// first_p99_us=.. end_p50_us=.. events=E status=S" where E is the number of
// SSE "data:" events in the last response (a sanity check: 50 content chunks
// plus role, finish and [DONE] events).
//
// Usage: ttfb_probe HOST PORT PATH BODY_FILE AUTH_HEADER_VALUE N [WARMUP]
// Only plain HTTP; handles chunked and Content-Length bodies.
// Build: cc -O2 -o ttfb_probe bench/ttfb_probe.c
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void die(const char* what) {
  fprintf(stderr, "ttfb_probe: %s: %s\n", what, errno ? strerror(errno) : "error");
  exit(1);
}

static int cmp_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

static double pct(double* v, int n, double p) {
  qsort(v, n, sizeof(double), cmp_double);
  int i = (int)(p * (n - 1) + 0.5);
  return v[i];
}

// Growing receive buffer: [0, len) holds bytes not yet consumed.
static char* buf;
static size_t cap, len;

static void fill(int fd) {
  if (cap - len < 65536) {
    cap = cap * 2 + 65536;
    buf = realloc(buf, cap);
    if (!buf) die("realloc");
  }
  ssize_t r = recv(fd, buf + len, cap - len, 0);
  if (r == 0) { errno = 0; die("connection closed by peer"); }
  if (r < 0) die("recv");
  len += (size_t)r;
}

static void consume(size_t n) {
  memmove(buf, buf + n, len - n);
  len -= n;
}

static int count_events(const char* body, size_t n) {
  int e = 0;
  for (size_t i = 0; i + 5 <= n; i++)
    if (memcmp(body + i, "data:", 5) == 0 && (i == 0 || body[i - 1] == '\n')) e++;
  return e;
}

int main(int argc, char** argv) {
  if (argc < 7) {
    fprintf(stderr, "usage: %s HOST PORT PATH BODY_FILE AUTH N [WARMUP]\n", argv[0]);
    return 2;
  }
  const char* host = argv[1];
  int port = atoi(argv[2]);
  const char* path = argv[3];
  int n = atoi(argv[6]);
  int warmup = argc > 7 ? atoi(argv[7]) : 10;
  if (n <= 0) n = 1;

  FILE* f = fopen(argv[4], "rb");
  if (!f) die("open body file");
  char body[65536];
  size_t body_len = fread(body, 1, sizeof body, f);
  fclose(f);
  while (body_len && (body[body_len - 1] == '\n' || body[body_len - 1] == '\r')) body_len--;

  char req[70000];
  int hl = snprintf(req, sizeof req,
                    "POST %s HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: %s\r\n"
                    "Content-Type: application/json\r\nAccept: text/event-stream\r\n"
                    "Content-Length: %zu\r\n\r\n",
                    path, host, port, argv[5], body_len);
  memcpy(req + hl, body, body_len);
  size_t req_len = (size_t)hl + body_len;

  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
  if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) die("bad host (IPv4 address expected)");
  if (connect(fd, (struct sockaddr*)&sa, sizeof sa) < 0) die("connect");

  double* hdr = calloc(n, sizeof(double));
  double* first = calloc(n, sizeof(double));
  double* end = calloc(n, sizeof(double));
  char* dec = NULL;  // decoded body of the current response
  size_t dec_cap = 0;
  int events = 0, status = 0;

  for (int it = 0; it < warmup + n; it++) {
    usleep(1000);  // let the target settle: strictly one request at a time
    len = 0;
    double t0 = now_us();
    if (send(fd, req, req_len, MSG_NOSIGNAL) != (ssize_t)req_len) die("send");

    // Headers.
    char* eoh;
    for (;;) {
      fill(fd);
      eoh = memmem(buf, len, "\r\n\r\n", 4);
      if (eoh) break;
    }
    double t_hdr = now_us();
    size_t hlen = (size_t)(eoh - buf) + 4;
    status = atoi(buf + 9);
    int chunked = 0;
    long clen = -1;
    for (char* p = buf; p < eoh;) {
      char* nl = memmem(p, (size_t)(eoh - p) + 2, "\r\n", 2);
      if (!nl) break;
      if (strncasecmp(p, "transfer-encoding:", 18) == 0 && memmem(p, (size_t)(nl - p), "chunked", 7))
        chunked = 1;
      if (strncasecmp(p, "content-length:", 15) == 0) clen = atol(p + 15);
      p = nl + 2;
    }
    consume(hlen);

    // Body: decode into dec, noting when the first SSE "data:" shows up.
    size_t dlen = 0;
    double t_first = 0;
    for (;;) {
      int done = 0;
      if (chunked) {
        for (;;) {  // decode all complete chunks in buf
          char* nl = memmem(buf, len, "\r\n", 2);
          if (!nl) break;
          size_t sz = strtoul(buf, NULL, 16);
          size_t need = (size_t)(nl - buf) + 2 + sz + 2;
          if (len < need) break;
          if (dlen + sz + 1 > dec_cap) {
            dec_cap = (dlen + sz + 1) * 2;
            dec = realloc(dec, dec_cap);
          }
          memcpy(dec + dlen, nl + 2, sz);
          dlen += sz;
          consume(need);
          if (sz == 0) { done = 1; break; }
        }
      } else if (clen >= 0) {
        if (dlen + len + 1 > dec_cap) {
          dec_cap = (dlen + len + 1) * 2;
          dec = realloc(dec, dec_cap);
        }
        memcpy(dec + dlen, buf, len);
        dlen += len;
        len = 0;
        if ((long)dlen >= clen) done = 1;
      } else {
        errno = 0;
        die("response has neither chunked encoding nor Content-Length");
      }
      if (!t_first && dlen >= 5 && memmem(dec, dlen, "data:", 5)) t_first = now_us();
      if (done) break;
      fill(fd);
    }
    double t_end = now_us();
    if (!t_first) t_first = t_end;  // not SSE: first byte of body == whole body
    events = count_events(dec, dlen);
    if (it >= warmup) {
      hdr[it - warmup] = t_hdr - t0;
      first[it - warmup] = t_first - t0;
      end[it - warmup] = t_end - t0;
    }
  }
  close(fd);
  double f90 = pct(first, n, 0.90), f99 = pct(first, n, 0.99), f50 = pct(first, n, 0.50);
  printf("n=%d hdr_p50_us=%.1f first_p50_us=%.1f first_p90_us=%.1f first_p99_us=%.1f end_p50_us=%.1f events=%d status=%d\n",
         n, pct(hdr, n, 0.5), f50, f90, f99, pct(end, n, 0.5), events, status);
  return status == 200 ? 0 : 1;
}
