// Package infra holds the deployment: Terraform for GCP (terraform/, built from the
// function registry's manifest), the docker compose stack for local development
// (docker-compose.yml), the Dockerfiles (docker/) and the operators' tools (cmd/). Its
// tests check that the Terraform, the compose file and the documentation agree with the
// registry, the event catalogue and shared/config, without Terraform providers or Docker.
package infra
