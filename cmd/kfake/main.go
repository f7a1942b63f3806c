// Command kfake runs franz-go's in-memory Kafka cluster as a process of its own: the
// standalone broker of the local deployed shape (make up), which the relay and the push
// bridge reach over TCP exactly as they reach a real cluster. It keeps nothing on disk.
//
//	kfake -listen 127.0.0.1:9092 [-brokers 1] [-partitions 8]
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/8949market/market/shared/bus"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:9092", "address of the first broker; further brokers take the next ports")
	brokers := flag.Int("brokers", 1, "number of brokers")
	partitions := flag.Int("partitions", bus.KafkaPartitions, "partitions of an auto-created topic")
	flag.Parse()
	if err := run(*listen, *brokers, *partitions); err != nil {
		slog.Error("kfake stopped", "error", err.Error())
		os.Exit(1)
	}
}

func run(listen string, brokers, partitions int) error {
	host, portText, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("-listen: %w", err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return fmt.Errorf("-listen port: %w", err)
	}
	ports := make([]int, brokers)
	for i := range ports {
		ports[i] = port + i
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(brokers), kfake.Ports(ports...), kfake.ListenFn(func(network, addr string) (net.Listener, error) {
		_, p, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		return net.Listen(network, net.JoinHostPort(host, p))
	}), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(partitions))
	if err != nil {
		return fmt.Errorf("start cluster: %w", err)
	}
	defer c.Close()
	slog.Info("kfake listening", "brokers", c.ListenAddrs())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}
