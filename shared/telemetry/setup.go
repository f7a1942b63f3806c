package telemetry

import (
	"log/slog"
	"os"

	"github.com/8949market/market/shared/config"
)

// Setup makes the process's default logger the platform's: stdout, in the configured
// format and level. Call it once at the top of main.
func Setup(cfg config.Config) *slog.Logger {
	logger := NewLogger(os.Stdout, cfg.LogFormat, cfg.LogLevel, cfg.GCPProject)
	slog.SetDefault(logger)
	return logger
}
