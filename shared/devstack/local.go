package devstack

import (
	"log/slog"
	"os"
	"strconv"

	"github.com/8949market/market/shared/config"
	"github.com/8949market/market/shared/telemetry"
)

// LocalConfig is the configuration make dev and make up run with: the environment, and
// where it says nothing, text logs for people, topics under prefix, servers on
// 127.0.0.1 only, browser pages from the local front-end servers allowed (DevOrigins),
// and the JWT keys and first administrator kept in .dev (made on first use). It also sets
// up logging.
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
	if unset("CORS_ALLOWED_ORIGINS") {
		cfg.CORSAllowedOrigins = DevOrigins(cfg.Port)
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

// DevOrigins are the browser origins a local stack on port allows when
// CORS_ALLOWED_ORIGINS is unset: its own (harmless: same-origin calls need no CORS, but a
// page may name either host) and the usual front-end dev servers (Vite's 5173, and 3000 of
// Create React App and Next.js). Deployments allow none unless configured.
func DevOrigins(port int) []string {
	self := strconv.Itoa(port)
	return []string{"http://localhost:" + self, "http://127.0.0.1:" + self, "http://localhost:5173", "http://localhost:3000"}
}
