# Sourced by the benchmarks: serves CORPUS from a local nginx on 127.0.0.1:PORT (pre-compressed
# copies via gzip_static; ETags on, nginx's default) out of a fresh work folder, removed with the
# nginx on exit, and writes the corpus's URLs, one per line, to $work/urls.
#
#   serve_corpus CORPUS PORT       sets $work
#   serve_root FOLDER              serves FOLDER at the same URLs from now on
#
# nginx serves $work/root, a link to the folder served: it opens each file by its path on each
# request (no open_file_cache), so moving the link moves the next request, with no reload.
serve_root() {
    ln -sfn "$1" "$work/root"
}

serve_corpus() {
    local corpus=$1 port=$2
    command -v nginx >/dev/null || { echo "needs nginx (apt-get install nginx)" >&2; exit 1; }
    work=$(mktemp -d)
    trap 'nginx -p "$work" -c nginx.conf -s stop 2>/dev/null || true; rm -rf "$work"' EXIT
    # nginx's workers (another user when started as root) follow the link through $work.
    chmod 755 "$work"
    mkdir -p "$work/logs"
    serve_root "$corpus"
    cat > "$work/nginx.conf" <<NGINX
worker_processes 2;
error_log $work/logs/error.log;
pid $work/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 100000;
    gzip_static on;
    types { application/rss+xml xml rss rdf; application/atom+xml atom; }
    server { listen 127.0.0.1:$port; root $work/root; }
}
NGINX
    nginx -p "$work" -c nginx.conf
    cut -d' ' -f1 "$corpus/urls" > "$work/urls"
}
