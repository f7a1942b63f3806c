package devstack

import (
	"log/slog"
	"os"

	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/telemetry"
)

// LocalConfig is the configuration make dev and make up run with: the environment, and
// where it says nothing, text logs for people, topics under prefix, servers on
// 127.0.0.1 only, and the JWT keys and first administrator kept in .dev (made on first
// use). It also sets up logging.
func LocalConfig(prefix, backbone string) (config.Config, error) {
	cfg, err := config.Load()
	if err != nil {
		return config.Config{}, err
	}
	unset := func(name string) bool { return os.Getenv(name) == "" }
	if unset("LOG_FORMAT") {
		cfg.LogFormat = "text"
	}
	if unset("TOPIC_PREFIX") {
		cfg.TopicPrefix = prefix
	}
	if unset("LISTEN_HOST") {
		cfg.ListenHost = "127.0.0.1" // this machine only, unless asked
	}
	if unset("BACKBONE") && backbone != "" {
		cfg.Backbone = backbone
	}
	telemetry.Setup(cfg)
	if cfg.JWTPublicKeys == "" && cfg.JWTSigningKey == "" {
		if cfg.JWTSigningKey, cfg.JWTPublicKeys, err = LocalKeys(".dev"); err != nil {
			return config.Config{}, err
		}
		slog.Info("using the local JWT signing key", "file", ".dev/jwt-signing-key.json")
	}
	if cfg.BootstrapAdminUsername == "" && cfg.BootstrapAdminPassword == "" {
		if cfg.BootstrapAdminUsername, cfg.BootstrapAdminPassword, err = LocalAdmin(".dev"); err != nil {
			return config.Config{}, err
		}
	}
	return cfg, nil
}
