# frozen_string_literal: true

# A tiny Rack app for the end-to-end test. Every request leaves a string
# behind, as a leaking app would; the body is the worker's pid.
KEPT = []

run lambda { |_env|
  KEPT << "request #{KEPT.size} " * 4
  [200, { "content-type" => "text/plain" }, ["#{Process.pid}\n"]]
}
