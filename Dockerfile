# syntax=docker/dockerfile:1
# The ImpactGrains server image, as deploy-k8s/ runs it:
#   docker build -t ghcr.io/impactgrains/impactgrains:0.1.0 .
# One Orleans silo co-hosted with the HTTP API; `migrate` and `verify` run through the same entrypoint
# (the migration Job's args are ["migrate"]). Configuration comes from the environment (README, "Configuration").
# Our CI machines have no Docker engine, so this file is not built there; docs/operations.md says what is verified
# instead.

# ---- build: the .NET SDK, plus Node.js and npm for the impact viewer's bundle (src/ImpactGrains.Viewer: its
# Viewer.targets runs `npm ci` and esbuild during the build).
FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /source

# Restore first, so that the packages stay in a cached layer while only sources change.
COPY Directory.Build.props Directory.Packages.props ./
COPY src/ImpactGrains.Abstractions/ImpactGrains.Abstractions.csproj src/ImpactGrains.Abstractions/
COPY src/ImpactGrains.Scoring/ImpactGrains.Scoring.csproj src/ImpactGrains.Scoring/
COPY src/ImpactGrains.Alerting/ImpactGrains.Alerting.csproj src/ImpactGrains.Alerting/
COPY src/ImpactGrains.Storage/ImpactGrains.Storage.csproj src/ImpactGrains.Storage/
COPY src/ImpactGrains.Grains/ImpactGrains.Grains.csproj src/ImpactGrains.Grains/
COPY src/ImpactGrains.Server/ImpactGrains.Server.csproj src/ImpactGrains.Server/
COPY src/ImpactGrains.Viewer/ImpactGrains.Viewer.csproj src/ImpactGrains.Viewer/
COPY src/ImpactGrains.Viewer/Viewer.targets src/ImpactGrains.Viewer/
RUN dotnet restore src/ImpactGrains.Server/ImpactGrains.Server.csproj

COPY src/ src/
RUN dotnet publish src/ImpactGrains.Server/ImpactGrains.Server.csproj -c Release --no-restore -o /app -p:UseAppHost=false

# ---- runtime: ASP.NET Core on Ubuntu chiseled (no shell, no package manager), as the non-root `app` user (1654).
# The globalization-invariant build needs no ICU.
FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled AS runtime
WORKDIR /app
COPY --from=build /app ./
# HTTP on 8080, all interfaces (the base image's ASPNETCORE_HTTP_PORTS is replaced by an explicit URL, which the
# dashboard's login rules read).
ENV ASPNETCORE_HTTP_PORTS="" \
    ASPNETCORE_URLS=http://0.0.0.0:8080
USER 1654
# HTTP (API, /health, dashboards), Orleans silo-to-silo, Orleans gateway.
EXPOSE 8080 11111 30000
ENTRYPOINT ["dotnet", "ImpactGrains.Server.dll"]
