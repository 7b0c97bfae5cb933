/*
 * mock-broker: a local Kafka-protocol broker for development and tests,
 * built on librdkafka's mock cluster (librdkafka >= 2.0, rdkafka_mock.h).
 *
 *   mock-broker PORT [@TOPICS_FILE] [TOPIC:PARTITIONS ...]
 *
 * Listens on 127.0.0.1:PORT (1 broker, id 1), pre-creates the given topics
 * (and those listed in TOPICS_FILE, which is re-read on SIGHUP), prints the
 * bootstrap servers on stdout and runs until SIGTERM/SIGINT.
 * All data lives in memory: a restart starts empty.
 *
 * Build: gcc -O2 -o scripts/bin/mock-broker scripts/mock-broker.c \
 *          $(pkg-config --cflags --libs rdkafka)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static int fixed_port; /* port for the first (only) broker listener */
static volatile sig_atomic_t stop, reload;

/*
 * librdkafka 2.0 has no API to choose the mock listener's port: it binds
 * 127.0.0.1:0 and advertises whatever the kernel picks. We interpose bind()
 * (this executable's symbol wins over libc's for librdkafka's calls) and
 * turn "port 0" into the fixed port, so the listener and the advertised
 * address in Metadata are both 127.0.0.1:PORT.
 */
int bind(int fd, const struct sockaddr *addr, socklen_t len) {
        struct sockaddr_in sin;
        if (fixed_port && addr && addr->sa_family == AF_INET &&
            len >= (socklen_t)sizeof(sin)) {
                memcpy(&sin, addr, sizeof(sin));
                if (sin.sin_port == 0) {
                        sin.sin_port = htons((uint16_t)fixed_port);
                        fixed_port   = 0; /* only the first listener */
                        return (int)syscall(SYS_bind, fd, &sin, sizeof(sin));
                }
        }
        return (int)syscall(SYS_bind, fd, addr, len);
}

/* librdkafka listens with a backlog of 5; a test suite opening many
 * connections at once would see SYNs dropped and 1 s retries. */
int listen(int fd, int backlog) {
        return (int)syscall(SYS_listen, fd, backlog < 512 ? 512 : backlog);
}

/*
 * librdkafka 2.0's mock cluster never sets its controller id, so Metadata
 * says ControllerId=0 while the only broker is 1. kafkajs looks the
 * controller up for admin calls and for the idempotent producer's
 * InitProducerId ("Broker 0 not found in the cached metadata"). The field
 * sits at the head of the opaque struct, unchanged from librdkafka 1.x to
 * 2.x: { char id[32]; rd_kafka_t *rk; int32_t controller_id; ... }.
 * We only write it after checking that the id and rk fields are where we
 * expect them; otherwise we leave the cluster alone and warn.
 */
struct mock_cluster_head {
        char id[32];
        rd_kafka_t *rk;
        int32_t controller_id;
};

static void fix_controller_id(rd_kafka_mock_cluster_t *mc, rd_kafka_t *rk) {
        struct mock_cluster_head *h = (struct mock_cluster_head *)mc;
        if (strncmp(h->id, "mockCluster", 11) == 0 && h->rk == rk &&
            (h->controller_id == 0 || h->controller_id == -1)) {
                h->controller_id = 1;
        } else if (h->rk != rk || h->controller_id != 1) {
                fprintf(stderr, "mock-broker: warning: unknown mock cluster "
                                "layout, controller id left as is\n");
        }
}

static void on_signal(int sig) {
        if (sig == SIGHUP)
                reload = 1;
        else
                stop = 1;
}

/* Create one topic from "name[:partitions]"; an existing topic is left as
 * is (the mock cannot change partition counts). */
static void create_topic(rd_kafka_mock_cluster_t *mc, const char *spec) {
        char name[256];
        int parts = 1;
        const char *colon = strrchr(spec, ':');
        size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
        if (n == 0 || n >= sizeof(name) ||
            (colon && (parts = atoi(colon + 1)) <= 0)) {
                fprintf(stderr, "mock-broker: bad topic spec '%s'\n", spec);
                return;
        }
        memcpy(name, spec, n);
        name[n] = '\0';
        rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mc, name, parts, 1);
        if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
                return;
        if (err)
                fprintf(stderr, "mock-broker: topic %s: %s\n", name,
                        rd_kafka_err2str(err));
        else
                fprintf(stderr, "mock-broker: topic %s (%d partitions)\n",
                        name, parts);
}

/* Topics file: whitespace-separated specs, re-read on SIGHUP. The mock
 * broker does not implement CreateTopics, so this is how a running broker
 * gets new topics with a chosen partition count. */
static void create_topics_from(rd_kafka_mock_cluster_t *mc, const char *path) {
        char spec[300];
        FILE *f = fopen(path, "r");
        if (!f)
                return;
        while (fscanf(f, "%299s", spec) == 1)
                create_topic(mc, spec);
        fclose(f);
}

int main(int argc, char **argv) {
        char errstr[512];
        int port = argc > 1 ? atoi(argv[1]) : 0;
        if (port <= 0 || port > 65535) {
                fprintf(stderr,
                        "usage: %s PORT [@TOPICS_FILE] [TOPIC:PARTITIONS ...]\n",
                        argv[0]);
                return 2;
        }
        fixed_port = port;
        /* Early, so a SIGHUP during start-up is not fatal. */
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        signal(SIGHUP, on_signal);

        /* The mock cluster needs an rd_kafka_t for bookkeeping only. */
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "log_level", "4", errstr, sizeof(errstr));
        rd_kafka_t *rk =
            rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "mock-broker: rd_kafka_new: %s\n", errstr);
                return 1;
        }

        rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, 1);
        if (!mc) {
                fprintf(stderr, "mock-broker: cannot create mock cluster "
                                "(port %d in use?)\n", port);
                rd_kafka_destroy(rk);
                return 1;
        }
        fix_controller_id(mc, rk);
        const char *bootstraps = rd_kafka_mock_cluster_bootstraps(mc);
        char want[64];
        snprintf(want, sizeof(want), "127.0.0.1:%d", port);
        if (strcmp(bootstraps, want) != 0) {
                /* bind() interposition did not take effect: refuse to run
                 * on a random port that nobody will find. */
                fprintf(stderr, "mock-broker: listening on %s, not %s\n",
                        bootstraps, want);
                rd_kafka_mock_cluster_destroy(mc);
                rd_kafka_destroy(rk);
                return 1;
        }

        const char *topics_file = NULL;
        for (int i = 2; i < argc; i++) {
                if (argv[i][0] == '@')
                        topics_file = argv[i] + 1;
                else
                        create_topic(mc, argv[i]);
        }
        if (topics_file)
                create_topics_from(mc, topics_file);

        printf("%s\n", bootstraps);
        fflush(stdout);

        /* Poll the flags (a signal between test and pause() would be lost). */
        while (!stop) {
                usleep(100 * 1000);
                if (reload) {
                        reload = 0;
                        if (topics_file)
                                create_topics_from(mc, topics_file);
                }
        }

        fprintf(stderr, "mock-broker: shutting down\n");
        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(rk);
        return 0;
}
