#!/bin/bash
# Container health check without curl in the image: GET /health over bash's /dev/tcp, healthy on 200.
exec 3<>"/dev/tcp/127.0.0.1/${HEALTH_PORT:-8080}" || exit 1
printf 'GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
read -r -t 5 status <&3 || exit 1
[[ $status == *" 200 "* ]]
