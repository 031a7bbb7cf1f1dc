/*
 * bench/socketcan-rx's paced sender: N classic frames (8 bytes, the id and
 * the data counting up like `cangen -I i -D i`) on IFACE at RATE frames/s.
 *
 *   paced_send IFACE RATE N
 *
 * Frame i is due at start + i / RATE, an absolute deadline
 * (clock_nanosleep TIMER_ABSTIME): a late wake-up is caught up by sending
 * the frames that are due at once, so the average rate holds even where
 * each sleep overshoots (cangen's -g sleeps a relative gap after each frame,
 * so its rate falls short by every overshoot; under TCG by a lot). A full
 * transmit queue (ENOBUFS) is waited out with poll. Prints the seconds from
 * the first frame to the last as JSON.
 */
#include <errno.h>
#include <linux/can.h>
#include <linux/can/raw.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double seconds_between(const struct timespec *a, const struct timespec *b) {
  return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void add_ns(struct timespec *t, long long ns) {
  long long total = (long long)t->tv_nsec + ns;
  t->tv_sec += total / 1000000000LL;
  t->tv_nsec = total % 1000000000LL;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: paced_send IFACE RATE N\n");
    return 2;
  }
  double rate = atof(argv[2]);
  long n = atol(argv[3]);
  if (rate <= 0 || n <= 0) {
    fprintf(stderr, "paced_send: RATE and N must be positive\n");
    return 2;
  }
  int s = socket(PF_CAN, SOCK_RAW, CAN_RAW);
  if (s < 0) {
    perror("paced_send: socket");
    return 1;
  }
  struct sockaddr_can addr = {.can_family = AF_CAN, .can_ifindex = (int)if_nametoindex(argv[1])};
  if (addr.can_ifindex == 0 || bind(s, (struct sockaddr *)&addr, sizeof addr) < 0) {
    perror("paced_send: bind");
    return 1;
  }
  /* this sender reads nothing: no receive queue to fill */
  setsockopt(s, SOL_CAN_RAW, CAN_RAW_FILTER, NULL, 0);

  struct timespec start, due, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  const double gap_ns = 1e9 / rate;
  for (long i = 0; i < n; i++) {
    due = start;
    add_ns(&due, (long long)(gap_ns * (double)i));
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL) == EINTR) {
    }
    struct can_frame frame = {.can_id = (canid_t)(i % 0x800), .len = 8};
    memcpy(frame.data, &i, sizeof i < 8 ? sizeof i : 8);
    while (write(s, &frame, sizeof frame) != sizeof frame) {
      if (errno != ENOBUFS && errno != EINTR) {
        perror("paced_send: write");
        return 1;
      }
      struct pollfd p = {.fd = s, .events = POLLOUT};
      poll(&p, 1, 10);
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &end);
  printf("{\"frames\":%ld,\"seconds\":%.6f}\n", n, seconds_between(&start, &end));
  return 0;
}
