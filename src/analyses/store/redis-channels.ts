import type { Redis } from 'ioredis';
import type { StoredEvent } from '../events.js';
import type { EventListener } from './store.js';

export interface RedisChannelsOptions {
  /** The process's one connection in subscriber mode. */
  subscriber: Redis;
  /** The pub/sub channel of an analysis's events. */
  channel: (id: string) => string;
  parse: (frame: string) => StoredEvent | undefined;
  /** The log after an id, to fill a gap (a lost message, a reconnect). */
  readEvents: (id: string, afterId: number) => Promise<StoredEvent[]>;
  /** Per id, whether the analysis still exists (true when unknown). */
  exist: (ids: string[]) => Promise<boolean[]>;
  /** How often the streamed analyses are checked to still exist. */
  watchIntervalMs: number;
}

interface Channel {
  id: string;
  listeners: Set<EventListener>;
  goneListeners: Set<() => void>;
  /** The last event id delivered, to fill a gap (a lost message) from the stream. */
  last: number;
  ready: Promise<unknown>;
}

/**
 * Live events of the analyses this process streams: one subscription per
 * analysis on the shared subscriber connection, however many readers it has;
 * gaps filled from the log. A Redis that was flushed or came back empty says
 * nothing, so the streamed analyses are checked to exist after every
 * reconnect and every `watchIntervalMs`, and the readers of one that is gone
 * are told.
 */
export class RedisChannels {
  private readonly channels = new Map<string, Channel>();
  private readonly watch: NodeJS.Timeout;
  private watching = false;

  constructor(private readonly options: RedisChannelsOptions) {
    options.subscriber.on('message', (channel: string, frame: string) => this.onMessage(channel, frame));
    // After a reconnect, catch up on whatever was published while the connection was down,
    // and end the streams of analyses a Redis that came back empty no longer has.
    options.subscriber.on('ready', () => {
      for (const state of this.channels.values()) void this.catchUp(state);
      void this.checkChannels();
    });
    this.watch = setInterval(() => void this.checkChannels(), options.watchIntervalMs);
    this.watch.unref();
  }

  async subscribe(id: string, listener: EventListener, onGone?: () => void): Promise<() => void> {
    const channel = this.options.channel(id);
    let state = this.channels.get(channel);
    if (!state) {
      state = {
        id,
        listeners: new Set(),
        goneListeners: new Set(),
        last: 0,
        ready: this.options.subscriber.subscribe(channel),
      };
      this.channels.set(channel, state);
    }
    state.listeners.add(listener);
    if (onGone) state.goneListeners.add(onGone);
    await state.ready;
    const current = state;
    return () => {
      current.listeners.delete(listener);
      if (onGone) current.goneListeners.delete(onGone);
      if (current.listeners.size === 0 && this.channels.get(channel) === current) {
        this.channels.delete(channel);
        void this.options.subscriber.unsubscribe(channel).catch(() => {});
      }
    };
  }

  close(): void {
    clearInterval(this.watch);
    this.channels.clear();
  }

  /** Tells the readers of analyses that no longer exist; one pipelined EXISTS per streamed analysis. */
  private async checkChannels(): Promise<void> {
    if (this.watching || this.channels.size === 0) return;
    this.watching = true;
    try {
      const states = [...this.channels.values()];
      const exist = await this.options.exist(states.map((state) => state.id));
      states.forEach((state, index) => {
        if (exist[index]) return;
        const gone = [...state.goneListeners];
        state.goneListeners.clear();
        for (const listener of gone) listener();
      });
    } catch {
      // Redis unreachable: nothing is known to be gone; the next check looks again.
    } finally {
      this.watching = false;
    }
  }

  private onMessage(channel: string, frame: string): void {
    const state = this.channels.get(channel);
    const event = this.options.parse(frame);
    if (!state || !event) return;
    if (state.last > 0 && event.id > state.last + 1) {
      void this.catchUp(state).then(() => this.deliver(state, event));
      return;
    }
    this.deliver(state, event);
  }

  private deliver(state: Channel, event: StoredEvent): void {
    if (event.id <= state.last) return;
    state.last = event.id;
    for (const listener of state.listeners) listener(event);
  }

  private async catchUp(state: Channel): Promise<void> {
    if (state.last === 0) return;
    for (const event of await this.options.readEvents(state.id, state.last)) this.deliver(state, event);
  }
}
