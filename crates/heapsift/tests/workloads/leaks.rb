# A small app that leaks one of four ways Ruby apps leak, beside a big
# bounded cache (an LRU of fixed size whose values vary in size): the noise
# a leak detector must rank below the leak, though it is bigger than the
# leak at first.
#
#   ruby leaks.rb KIND OUT_DIR
#
# KIND: callbacks | memoize | thread_locals | singleton_constant. Writes
# OUT_DIR/1.dump, 2.dump and 3.dump (after GC.start, allocation tracing on,
# as the heapsift agent dumps) and OUT_DIR/addresses.json: the addresses of
# the leaking collection and of the cache, for the tests to check against.
require "objspace"
require "json"

kind, out = ARGV
ObjectSpace.trace_object_allocations_start
# A named thread: reports name it by its name.
Thread.current.name = "request-loop"

# The noise: 3,000 entries, about 1.3 MB, always full.
class Lru
  def initialize(max)
    @max = max
    @entries = {}
  end

  def put(key, value)
    @entries.delete(key)
    @entries[key] = value
    @entries.shift while @entries.size > @max
  end

  def store = @entries
end
CACHE = Lru.new(3_000)
rng = Random.new(42)
3_000.times { |i| CACHE.put("warm-#{i}", "v" * (200 + rng.rand(200))) }

# The four leaks: each keeps something per request, forever.
$callbacks = []

class PriceCalculator
  def self.price(id)
    @prices ||= {}
    @prices[id] ||= "price of #{id}: " + ("9" * 400)
  end

  def self.prices = @prices
end

class Registry
  class << self
    HANDLERS = {}

    def register(name, handler) = HANDLERS[name] = handler
    def handlers = HANDLERS
  end
end

def handle(kind, request, rng)
  CACHE.put("key-#{rng.rand(1_000_000)}", "v" * (200 + rng.rand(200)))
  payload = "request #{request} " + ("x" * 400)
  case kind
  when "callbacks" then $callbacks << proc { payload.size }
  when "memoize" then PriceCalculator.price(request)
  when "thread_locals" then (Thread.current[:audit] ||= []) << payload
  when "singleton_constant" then Registry.register("handler-#{request}", [payload])
  else abort "unknown leak kind #{kind}"
  end
end

def leak_of(kind)
  case kind
  when "callbacks" then $callbacks
  when "memoize" then PriceCalculator.prices
  when "thread_locals" then Thread.current[:audit]
  when "singleton_constant" then Registry.handlers
  end
end

address = ->(object) { JSON.parse(ObjectSpace.dump(object))["address"] }
request = 0
(1..3).each do |phase|
  700.times do
    handle(kind, request, rng)
    request += 1
  end
  if phase == 1
    File.write(File.join(out, "addresses.json"),
               JSON.generate(leak: address.(leak_of(kind)), cache: address.(CACHE.store)))
  end
  GC.start
  File.open(File.join(out, "#{phase}.dump"), "w") { |f| ObjectSpace.dump_all(output: f) }
end
